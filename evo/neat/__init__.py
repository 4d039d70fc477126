"""NEAT: genomes that grow their topology (:mod:`evo.neat.genome`), the ``neat`` strategy
(:mod:`evo.neat.strategy`), champions as JSON (:mod:`evo.neat.export`) and the species
picture (:mod:`evo.neat.plots`)."""
