"""pyglet renderers for the physics worlds, imported only when a window is asked for.

Importing this package does not import pyglet: :mod:`common.window` decides how a window
can be made (an X display, or pyglet's EGL headless mode for off-screen pictures) before
pyglet's window modules are loaded, because that choice cannot be changed afterwards.

    from common.window import open_window        # raises NoDisplay, one line, if none
    window = open_window(1280, 720, "cars")
    from sims.view.cars import CarRenderer           # imports pyglet
    ...

Renderers only read a world's public state (positions, polygons, rays, flags); they never
step or change it, so watching a simulation cannot alter it.  Everything a renderer draws
goes through one ``pyglet.graphics.Batch``, and moving things (cars, bodies, rays, network
connections) are vertex lists whose position and colour arrays are rewritten in bulk from
numpy each frame: one draw call per layer, not one shape per agent.
"""
