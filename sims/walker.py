"""Creatures made of rigid boxes joined by motorised pivot joints: body plans from YAML.

A creature file (`configs/creatures/*.yaml`)::

    name: biped
    torso: torso                 # the body whose travel is the fitness
    fall: [torso, head]          # bodies that end the episode when they touch the ground
    feet: [foot_l, foot_r]       # bodies whose ground contact is observed
    friction: 1.0                # optional, of every body against the ground
    bodies:                      # boxes: centre [x, y] in metres (ground at y = 0)
      torso: {size: [0.3, 0.5], position: [0.0, 1.05], mass: 10.0}
      ...                        # optional `angle` (rad) of the box in the rest pose
    joints:                      # pivot joints with rotary limits and a motor
      hip_l: {a: torso, b: thigh_l, anchor: [0.0, 0.8], limits: [-1.2, 1.2],
              max_torque: 150.0, max_speed: 8.0}

Joint angles are measured from the rest pose, as the angle of `b` relative to `a`
(counter-clockwise positive); `limits` bound it. Any problem raises SimsError naming the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymunk

from common.config import (
    as_float,
    as_positive,
    as_str,
    as_vec2,
    check_keys,
    read_yaml,
)
from common.resources import file_or_shipped, shipped_dir, shipped_names
from sims.errors import SimsError

CREATURES_DIR = shipped_dir("creatures")  # configs/creatures/, found by common.resources
WALKER_CATEGORY = 0b0100
GROUND_CATEGORY = 0b1000
WALKER_GROUP = 2  # parts of all walkers share one group: they never touch each other


@dataclass(frozen=True)
class BodySpec:
    """One rigid box."""

    name: str
    size: tuple[float, float]  # m, width and height
    position: tuple[float, float]  # m, centre in the rest pose (ground at y = 0)
    mass: float  # kg
    angle: float = 0.0  # rad, in the rest pose


@dataclass(frozen=True)
class JointSpec:
    """A motorised pivot between bodies a and b."""

    name: str
    a: int  # body index
    b: int  # body index
    anchor: tuple[float, float]  # m, pivot in rest-pose coordinates
    limits: tuple[float, float]  # rad, relative to the rest pose, lo < 0 < hi allowed
    max_torque: float  # N m
    max_speed: float  # rad/s


@dataclass(frozen=True)
class CreatureSpec:
    """A validated body plan."""

    name: str
    source: str
    bodies: tuple[BodySpec, ...]
    joints: tuple[JointSpec, ...]
    torso: int  # body index
    fall: tuple[int, ...]  # body indices
    feet: tuple[int, ...]  # body indices
    friction: float = 1.0

    @property
    def n_bodies(self) -> int:
        return len(self.bodies)

    @property
    def n_joints(self) -> int:
        return len(self.joints)

    @property
    def body_length(self) -> float:
        """m: the longer side of the rest pose's bounding box (a biped's height, a
        quadruped's length), the unit of "body lengths" travelled."""
        lo = np.full(2, np.inf)
        hi = np.full(2, -np.inf)
        for b in self.bodies:
            c, s = np.cos(b.angle), np.sin(b.angle)
            half = np.array([[b.size[0], b.size[1]]]) / 2 * np.array([[1, 1], [1, -1]])
            corners = np.vstack([half, -half]) @ np.array([[c, s], [-s, c]]) + b.position
            lo, hi = np.minimum(lo, corners.min(0)), np.maximum(hi, corners.max(0))
        return float((hi - lo).max())


_BODY_KEYS = ({"size", "position", "mass"}, {"angle"})
_JOINT_KEYS = ({"a", "b", "anchor", "limits", "max_torque"}, {"max_speed"})


def _body_index(where: str, key: str, value: object, names: dict[str, int]) -> int:
    name = as_str(where, key, value)
    if name not in names:
        raise SimsError(f"{where}: '{key}' names unknown body '{name}'")
    return names[name]


def _name_list(where: str, key: str, value: object, names: dict[str, int]) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise SimsError(f"{where}: '{key}' must be a non-empty list of body names")
    return tuple(_body_index(where, key, v, names) for v in value)


def parse_creature(data: dict, source: str) -> CreatureSpec:
    """Validate a creature mapping (as read from YAML)."""
    check_keys(source, data, {"bodies", "joints", "torso", "feet"}, {"name", "fall", "friction"})
    raw_bodies, raw_joints = data["bodies"], data["joints"]
    if not isinstance(raw_bodies, dict) or not raw_bodies:
        raise SimsError(f"{source}: 'bodies' must be a non-empty mapping of name -> body")
    if not isinstance(raw_joints, dict) or not raw_joints:
        raise SimsError(f"{source}: 'joints' must be a non-empty mapping of name -> joint")
    bodies = []
    for name, b in raw_bodies.items():
        where = f"{source}: body '{name}'"
        if not isinstance(b, dict):
            raise SimsError(f"{where}: must be a mapping")
        check_keys(where, b, *_BODY_KEYS)
        size = as_vec2(where, "size", b["size"])
        if min(size) <= 0:
            raise SimsError(f"{where}: 'size' must be positive")
        pos = as_vec2(where, "position", b["position"])
        angle = as_float(where, "angle", b.get("angle", 0.0))
        mass = as_positive(where, "mass", b["mass"])
        c, s = np.cos(angle), np.sin(angle)
        lowest = pos[1] - abs(s) * size[0] / 2 - abs(c) * size[1] / 2
        if lowest < -1e-9:
            raise SimsError(f"{where}: reaches {-lowest:.3f} m below the ground (y = 0)")
        bodies.append(BodySpec(str(name), size, pos, mass, angle))
    names = {b.name: i for i, b in enumerate(bodies)}
    joints = []
    for name, j in raw_joints.items():
        where = f"{source}: joint '{name}'"
        if not isinstance(j, dict):
            raise SimsError(f"{where}: must be a mapping")
        check_keys(where, j, *_JOINT_KEYS)
        a = _body_index(where, "a", j["a"], names)
        b = _body_index(where, "b", j["b"], names)
        if a == b:
            raise SimsError(f"{where}: 'a' and 'b' must be different bodies")
        lim = as_vec2(where, "limits", j["limits"])
        if not lim[0] < lim[1]:
            raise SimsError(f"{where}: 'limits' must be [low, high] with low < high")
        if not lim[0] <= 0.0 <= lim[1]:
            raise SimsError(f"{where}: 'limits' must include 0 (the rest pose)")
        joints.append(
            JointSpec(
                str(name), a, b, as_vec2(where, "anchor", j["anchor"]), lim,
                as_positive(where, "max_torque", j["max_torque"]),
                as_positive(where, "max_speed", j.get("max_speed", 8.0)),
            )
        )
    torso = _body_index(source, "torso", data["torso"], names)
    feet = _name_list(source, "feet", data["feet"], names)
    fall = _name_list(source, "fall", data.get("fall", [data["torso"]]), names)
    friction = as_positive(source, "friction", data.get("friction", 1.0))
    name = as_str(source, "name", data.get("name", Path(source).stem))
    return CreatureSpec(name, source, tuple(bodies), tuple(joints), torso, fall, feet, friction)


def load_creature(spec: str | Path) -> CreatureSpec:
    """A creature from a YAML path or the name of one in configs/creatures/."""
    found = file_or_shipped("creatures", spec)
    if found is not None:
        return parse_creature(read_yaml(found, "creature"), str(found))
    path = Path(spec)
    if path.exists():
        raise SimsError(f"{path}: is a folder, not a creature file")
    if path.suffix in (".yaml", ".yml"):
        raise SimsError(f"{path}: no such creature file")
    names = ", ".join(shipped_names("creatures"))
    raise SimsError(f"creature '{spec}': not a file nor a shipped creature ({names})")


def build_creature(
    space: pymunk.Space, spec: CreatureSpec, offset: tuple[float, float], motor_scale: float
) -> tuple[list[pymunk.Body], list[pymunk.Shape], list[pymunk.SimpleMotor]]:
    """Add one creature to `space` at `offset` (m); returns its bodies, shapes and motors."""
    ox, oy = offset
    shape_filter = pymunk.ShapeFilter(
        group=WALKER_GROUP, categories=WALKER_CATEGORY, mask=GROUND_CATEGORY
    )
    bodies, shapes = [], []
    for b in spec.bodies:
        body = pymunk.Body(b.mass, pymunk.moment_for_box(b.mass, b.size))
        body.position = (b.position[0] + ox, b.position[1] + oy)
        body.angle = b.angle
        shape = pymunk.Poly.create_box(body, b.size, radius=0.01)
        shape.friction = spec.friction
        shape.filter = shape_filter
        space.add(body, shape)
        bodies.append(body)
        shapes.append(shape)
    motors = []
    for j in spec.joints:
        a, b = bodies[j.a], bodies[j.b]
        anchor = (j.anchor[0] + ox, j.anchor[1] + oy)
        pivot = pymunk.PivotJoint(a, b, anchor)
        rest = spec.bodies[j.b].angle - spec.bodies[j.a].angle
        limit = pymunk.RotaryLimitJoint(a, b, rest + j.limits[0], rest + j.limits[1])
        motor = pymunk.SimpleMotor(a, b, 0.0)
        motor.max_force = j.max_torque * motor_scale
        space.add(pivot, limit, motor)
        motors.append(motor)
    return bodies, shapes, motors


def creature_dict(spec: CreatureSpec) -> dict:
    """``spec`` as the mapping of a creature file (what :func:`parse_creature` reads back
    to an equal spec): plain Python numbers, lists and dicts, for YAML or JSON."""
    name = [b.name for b in spec.bodies]
    bodies = {}
    for b in spec.bodies:
        body = {"size": list(map(float, b.size)), "position": list(map(float, b.position)),
                "mass": float(b.mass)}
        if b.angle != 0.0:
            body["angle"] = float(b.angle)
        bodies[b.name] = body
    joints = {j.name: {"a": name[j.a], "b": name[j.b], "anchor": list(map(float, j.anchor)),
                       "limits": list(map(float, j.limits)), "max_torque": float(j.max_torque),
                       "max_speed": float(j.max_speed)} for j in spec.joints}
    return {"name": spec.name, "torso": name[spec.torso], "fall": [name[i] for i in spec.fall],
            "feet": [name[i] for i in spec.feet], "friction": float(spec.friction),
            "bodies": bodies, "joints": joints}


def _yaml_value(value) -> str:
    """One value in YAML flow style: numbers exactly (repr, always with a '.' so any YAML
    reader sees a float), names as they are where plain, else quoted."""
    if isinstance(value, float):
        text = repr(value)
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_value(k)}: {_yaml_value(v)}" for k, v in
                               value.items()) + "}"
    text = str(value)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def creature_yaml(spec: CreatureSpec, comment: str = "") -> str:
    """``spec`` as the text of a creature file, one line per body and joint like the
    shipped ones (``comment``: lines put at the top after '# ')."""
    data = creature_dict(spec)
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    for key in ("name", "torso", "fall", "feet", "friction"):
        lines.append(f"{key}: {_yaml_value(data[key])}")
    for key in ("bodies", "joints"):
        lines.append(f"{key}:")
        lines.extend(f"  {_yaml_value(k)}: {_yaml_value(v)}" for k, v in data[key].items())
    return "\n".join(lines) + "\n"
