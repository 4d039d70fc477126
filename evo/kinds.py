"""The names of the tasks that run in our own worlds: the keys of the task registry
(:data:`evo.tasks.KINDS`, which maps each to its class; a ``gym:ENV_ID`` task is
:class:`evo.gym_task.GymTask`).

Everything else asks a task class what it is (:func:`evo.tasks.task_class`) instead of
comparing names.  This module imports nothing, so the command line can read the names
before NumPy loads (``neuroevo.cli.one_blas_thread``).
"""

CARS = "cars"  # evo.tasks.CarTask
WALKERS = "walkers"  # evo.tasks.WalkerTask
WORLD_TASKS = (CARS, WALKERS)
