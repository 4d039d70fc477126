"""The files neuroevo ships: run configs (``*.yaml``), ``tracks/*.yaml`` and
``creatures/*.yaml``.

A package only so that the files travel in the wheel and are found with
:mod:`importlib.resources`; there is no code here.  Read them through
:mod:`common.resources` (an editable install reads this folder in place)."""
