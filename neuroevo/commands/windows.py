"""``neuroevo draw``, ``neuroevo browse`` and ``neuroevo playground``: pyglet windows.

Top-level imports stay light: the windows (and pyglet) are imported inside the commands,
after the checks a user can fail without a display (a colour model, an unknown dataset).
"""

from __future__ import annotations

import sys

from common.config import ConfigError

PLAYGROUND_ACTIVATIONS = ("sigmoid", "tanh", "relu", "silu")  # = nn.apps.playground's


def _finish(args) -> None:
    if getattr(args, "screenshot", None):
        print(f"screenshot: {args.screenshot}")


def draw_cmd(args) -> int:
    from neuroevo.image_models import open_model
    from nn.apps.preprocess import draw_spec

    net, meta = open_model(args.model)
    spec = draw_spec(meta, net.n_inputs, args.model)  # one-line error for colour models
    mode = "raw canvas" if args.raw else {"mnist": "MNIST recipe",
                                           "doodle": "Quick, Draw! strokes"}[spec.style]
    print(f"drawing for {net.describe()} network "
          f"({meta.get('dataset') or 'unknown dataset'}, {spec.height}x{spec.width} input, "
          f"{mode}); keys: C clear, Z undo, R raw canvas, Esc quit", file=sys.stderr)
    from nn.apps.draw import run_draw

    run_draw(net, meta, args.model, raw=args.raw, frames=args.frames,
             screenshot=args.screenshot)
    _finish(args)
    return 0


def browse_cmd(args) -> int:
    from neuroevo.image_models import model_and_data

    net, meta, data = model_and_data(args.model, args.dataset, args.data_dir)
    name = data.name
    if not data.is_image:
        raise ConfigError(f"{name}: browse shows image test sets, and this one has "
                          f"{data.n_inputs} features" + ("; try: neuroevo playground"
                                                         if data.n_inputs == 2 else ""))
    from nn.apps.browse import BrowseState, display_images, score_dataset

    scores, probabilities = score_dataset(net, meta, data)
    state = BrowseState(display_images(data), data.y_test, scores, data.label_names)
    if args.index is not None:
        if not 1 <= args.index <= len(state):
            raise ConfigError(f"--index must be in 1..{len(state)}, got {args.index}")
        state.go(args.index - 1)
    if args.mistakes:
        state.go(state.index - 1)
        state.next_mistake(1)
    print(f"{data.name} test set: {len(state)} images, accuracy {state.accuracy:.4f}, "
          f"{len(state.mistakes)} mistakes")
    from nn.apps.browse import run_browse

    run_browse(state, f"{data.name} test set", probabilities, frames=args.frames,
               screenshot=args.screenshot)
    _finish(args)
    return 0


def playground_cmd(args) -> int:
    if args.hidden < 0:
        raise ConfigError(f"--hidden must be >= 0, got {args.hidden}")
    if not args.lr > 0:
        raise ConfigError(f"--lr must be > 0, got {args.lr}")
    print("fruit playground: L learn, S step, H hidden size, A activation, C linear/curved, "
          "R reset, arrows edit weights, Esc quit", file=sys.stderr)
    from nn.apps.playground import run_playground

    pg = run_playground(curved=args.curved, hidden=args.hidden, activation=args.activation,
                        seed=args.seed, lr=args.lr, learn=args.learn, frames=args.frames,
                        screenshot=args.screenshot)
    print(f"network {'-'.join(map(str, pg.sizes))} ({pg.activation}) on the "
          f"{'curved' if pg.curved else 'linear'} set: epoch {pg.epoch:.1f}, cost "
          f"{pg.history[-1]:.4f}, test accuracy {pg.accuracy('test'):.4f}")
    _finish(args)
    return 0


def _window_options(p) -> None:
    p.add_argument("--frames", type=int, default=0, metavar="N",
                   help="run N frames, then close (for scripts; default: until closed)")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="save the last frame as a PNG when the window closes")


def add_commands(sub) -> None:
    """Register draw, browse and playground with the ``neuroevo`` parser."""
    d = sub.add_parser("draw", help="draw digits or doodles for a model to recognise",
                       description="A canvas for the mouse; the model's ranked guesses update "
                       "as you draw. Digit and fashion models see the drawing through the "
                       "MNIST recipe (crop, 20x20 box, centre of mass), doodle models through "
                       "Quick, Draw!'s renderer; R shows the raw canvas instead. Colour "
                       "models cannot be drawn for.")
    d.add_argument("model", metavar="MODEL", help="a model.npz, or a .json network of the "
                   "original C# project")
    d.add_argument("--raw", action="store_true", help="start with the raw canvas (key R)")
    _window_options(d)
    d.set_defaults(func="neuroevo.commands.windows:draw_cmd")

    b = sub.add_parser("browse", help="flip through test images with the model's verdicts",
                       description="Show the test images one by one with the prediction and "
                       "its confidence, and a per-class accuracy panel. Keys: Left/Right flip, "
                       "M next mistake, Shift+M previous mistake, Home/End, Esc quit.")
    b.add_argument("model", metavar="MODEL", help="a model.npz (or .json network)")
    b.add_argument("--dataset", metavar="NAME", help="dataset to browse (default: the model's)")
    b.add_argument("--data-dir", metavar="DIR", help="where dataset files are")
    b.add_argument("--index", type=int, metavar="N", help="start at test image N (1-based)")
    b.add_argument("--mistakes", action="store_true", help="start at the first mistake")
    _window_options(b)
    b.set_defaults(func="neuroevo.commands.windows:browse_cmd")

    g = sub.add_parser("playground", help="the poisonous-fruit decision boundary, live",
                       description="The fruit set plotted over the network's decision. Edit "
                       "weights and biases by hand, or switch learning on (L) and watch the "
                       "boundary move while the cost falls. H hidden size, A activation, C "
                       "linear/curved set.")
    g.add_argument("--curved", action="store_true", help="start with the curved set")
    g.add_argument("--hidden", type=int, default=3, metavar="N",
                   help="hidden neurons (0: none; default 3)")
    g.add_argument("--activation", default="sigmoid", choices=PLAYGROUND_ACTIVATIONS,
                   help="hidden activation (default sigmoid)")
    g.add_argument("--lr", type=float, default=0.03, metavar="RATE",
                   help="Adam learning rate (default 0.03; keys [ and ] halve/double it)")
    g.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seeds the data set and the weights")
    g.add_argument("--learn", action="store_true", help="start with learning switched on")
    _window_options(g)
    g.set_defaults(func="neuroevo.commands.windows:playground_cmd")
