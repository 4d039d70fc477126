"""Strategy names -> classes."""

from evo.cmaes import CMAES
from evo.es import OpenAIES
from evo.ga import SimpleGA
from evo.random_search import RandomSearch
from evo.strategy import Strategy

STRATEGIES: dict[str, type[Strategy]] = {
    SimpleGA.name: SimpleGA,
    OpenAIES.name: OpenAIES,
    CMAES.name: CMAES,
    RandomSearch.name: RandomSearch,
}
