"""Strategy names -> classes."""

from evo.cmaes import CMAES
from evo.es import OpenAIES
from evo.ga import SimpleGA
from evo.neat.strategy import NEAT
from evo.qd import CMAME, MapElites, NoveltySearch
from evo.random_search import RandomSearch
from evo.strategy import Strategy

STRATEGIES: dict[str, type[Strategy]] = {
    SimpleGA.name: SimpleGA,
    OpenAIES.name: OpenAIES,
    CMAES.name: CMAES,
    RandomSearch.name: RandomSearch,
    MapElites.name: MapElites,  # quality diversity: tell() also takes descriptors
    NoveltySearch.name: NoveltySearch,
    CMAME.name: CMAME,
    NEAT.name: NEAT,  # evolves node graphs: needs_graph
}
