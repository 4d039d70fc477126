"""Bodies that evolve: body genes -> a resized creature (a plain :class:`CreatureSpec`).

A creature with B bodies and J joints has ``2 B + J`` body genes, in this order::

    [length_0 .. length_{B-1} | width_0 .. width_{B-1} | motor_0 .. motor_{J-1}]

Each gene ``g`` maps to a scale ``1 + spread * tanh(g)``, so every scale stays within its
bounds whatever the gene: lengths x [0.6, 1.4], widths x [0.8, 1.2], motors x [0.6, 1.4]
(:data:`LENGTH_SPREAD`, :data:`WIDTH_SPREAD`, :data:`MOTOR_SPREAD`); ``g = 0`` is the
creature as its file says (exactly: all genes 0 give back the same spec).  A body's
*length* scale multiplies its box's height and its *width* scale the box's width (the
box's own axes, in the rest pose); its mass scales with the area (the same density).  A
joint's *motor* scale multiplies its ``max_torque``; limits and max speeds stay as they
are.  Within these bounds a shipped creature with every scale at any corner of them
stands still on its motors for 4 s (tested; feet narrower than 0.8 toppled the biped over
its heel), and its boxes stay far from the sizes the solver struggles with (the thinnest
part, a biped's foot, stays 3.6 cm thick).

Positions follow the sizes through the joint tree, walked from the torso: a joint's anchor
keeps its place relative to its parent body, scaled with the parent's scales (an anchor
at the bottom edge of a thigh stays at its bottom edge); a child's centre keeps its place
relative to the anchor, scaled with the child's scales.  Then the creature is moved up or
down so that its lowest point is as high as the file's (y = 0, on the ground, for every
shipped creature).  This needs the joints to form a tree (each body reached from the torso
by exactly one chain of joints); :func:`joint_tree` checks it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sims.errors import SimsError
from sims.walker import BodySpec, CreatureSpec, JointSpec

LENGTH_SPREAD = 0.4  # a box's height: x [0.6, 1.4]
WIDTH_SPREAD = 0.2  # a box's width: x [0.8, 1.2] (a narrower foot topples the biped)
MOTOR_SPREAD = 0.4  # a joint's max torque: x [0.6, 1.4]


def n_genes(spec: CreatureSpec) -> int:
    """How many body genes ``spec`` has: per body a length and a width, per joint a motor."""
    return 2 * spec.n_bodies + spec.n_joints


def spreads(spec: CreatureSpec) -> np.ndarray:
    """(n_genes,) the spread of each gene's scale: length, width, motor spreads."""
    nb, nj = spec.n_bodies, spec.n_joints
    return np.repeat([LENGTH_SPREAD, WIDTH_SPREAD, MOTOR_SPREAD], [nb, nb, nj])


def scales(spec: CreatureSpec, genes: np.ndarray) -> np.ndarray:
    """Body genes ``(n_genes(spec),)`` -> scales ``1 + spread * tanh(g)``, each within
    ``1 +- spread`` (:func:`spreads`)."""
    return 1.0 + spreads(spec) * np.tanh(np.asarray(genes, np.float64))


def joint_tree(spec: CreatureSpec) -> list[tuple[int, int, int]]:
    """The joints in the order a walk from the torso meets them: ``(joint, parent body,
    child body)`` each.  Raises SimsError unless the joints form a tree over every body."""
    where = f"{spec.source}: creature '{spec.name}'"
    if spec.n_joints != spec.n_bodies - 1:
        raise SimsError(f"{where}: evolving a body needs its joints to form a tree ("
                        f"{spec.n_bodies} bodies need {spec.n_bodies - 1} joints, it has "
                        f"{spec.n_joints})")
    placed = {spec.torso}
    order = []
    frontier = [spec.torso]
    while frontier:
        body = frontier.pop(0)
        for k, j in enumerate(spec.joints):
            if body not in (j.a, j.b):
                continue
            other = j.b if j.a == body else j.a
            if other in placed:
                continue
            placed.add(other)
            order.append((k, body, other))
            frontier.append(other)
    if len(placed) != spec.n_bodies:
        lost = sorted(spec.bodies[i].name for i in range(spec.n_bodies) if i not in placed)
        raise SimsError(f"{where}: evolving a body needs its joints to form a tree, but "
                        f"{', '.join(lost)} cannot be reached from the torso")
    return order


def lowest_point(spec: CreatureSpec) -> float:
    """m: the lowest y of any box of ``spec`` in its rest pose."""
    return float(min(b.position[1] - abs(np.sin(b.angle)) * b.size[0] / 2
               - abs(np.cos(b.angle)) * b.size[1] / 2 for b in spec.bodies))


def _stretch(angle: float, sx: float, sy: float, v: np.ndarray) -> np.ndarray:
    """How far the point ``v`` (relative to a body's centre, in world axes) moves when the
    body, turned by ``angle``, is scaled by ``sx`` along its width and ``sy`` along its
    height: ``R diag(sx - 1, sy - 1) R^T v`` (exactly 0 for scales of 1)."""
    c, s = np.cos(angle), np.sin(angle)
    lx, ly = c * v[0] + s * v[1], -s * v[0] + c * v[1]  # in the body's axes
    lx, ly = (sx - 1.0) * lx, (sy - 1.0) * ly
    return np.array([c * lx - s * ly, s * lx + c * ly])


def scaled_creature(spec: CreatureSpec, genes: np.ndarray) -> CreatureSpec:
    """``spec`` resized by its body ``genes`` ``(n_genes(spec),)``; see the module
    docstring.  All genes 0 give back ``spec`` itself (equal field for field)."""
    genes = np.asarray(genes, np.float64)
    nb, nj = spec.n_bodies, spec.n_joints
    if genes.shape != (n_genes(spec),):
        raise ValueError(f"creature '{spec.name}' has {n_genes(spec)} body genes, got an "
                         f"array of shape {genes.shape}")
    if not np.isfinite(genes).all():
        raise ValueError("body genes must be finite")
    sc = scales(spec, genes)
    length, width, motor = sc[:nb], sc[nb:2 * nb], sc[2 * nb:]
    order = joint_tree(spec)
    # moves of the body centres and of the anchors (0 where nothing is scaled, so that
    # position + move is the file's position exactly)
    moved = {spec.torso: np.zeros(2)}
    anchor_move = [np.zeros(2)] * nj
    for k, parent, child in order:
        j = spec.joints[k]
        anchor = np.array(j.anchor)
        bp, bc = spec.bodies[parent], spec.bodies[child]
        a = moved[parent] + _stretch(bp.angle, width[parent], length[parent],
                                     anchor - bp.position)
        anchor_move[k] = a
        moved[child] = a + _stretch(bc.angle, width[child], length[child],
                                    np.array(bc.position) - anchor)
    bodies = []
    for i, b in enumerate(spec.bodies):
        w, h = width[i], length[i]
        pos = np.array(b.position) + moved[i]
        bodies.append(BodySpec(b.name, (float(b.size[0] * w), float(b.size[1] * h)),
                               (float(pos[0]), float(pos[1])), float(b.mass * (w * h)),
                               b.angle))
    joints = [JointSpec(j.name, j.a, j.b,
                        (float(j.anchor[0] + anchor_move[k][0]),
                         float(j.anchor[1] + anchor_move[k][1])),
                        j.limits, float(j.max_torque * motor[k]), j.max_speed)
              for k, j in enumerate(spec.joints)]
    out = replace(spec, bodies=tuple(bodies), joints=tuple(joints))
    lift = float(lowest_point(spec) - lowest_point(out))  # back to the file's clearance
    if lift == 0.0:
        return out
    return replace(out, bodies=tuple(replace(b, position=(b.position[0], b.position[1] + lift))
                                     for b in out.bodies),
                   joints=tuple(replace(j, anchor=(j.anchor[0], j.anchor[1] + lift))
                                for j in out.joints))


def body_genes_of(spec: CreatureSpec, body: CreatureSpec) -> np.ndarray:
    """The genes that turn ``spec`` into ``body`` (a :func:`scaled_creature` of it), read
    back from the sizes and torques: for tests and for reports."""
    b0, b1 = spec.bodies, body.bodies
    ratio = np.concatenate([[y.size[1] / x.size[1] for x, y in zip(b0, b1)],
                            [y.size[0] / x.size[0] for x, y in zip(b0, b1)],
                            [y.max_torque / x.max_torque
                             for x, y in zip(spec.joints, body.joints)]])
    return np.arctanh((ratio - 1.0) / spreads(spec))


def same_topology(a: CreatureSpec, b: CreatureSpec) -> str | None:
    """Why ``b`` cannot share a world with ``a`` (None: it can): the same bodies (names and
    rest angles), joints (bodies, limits, max speeds), torso, fall and feet bodies and
    friction, whatever the sizes, positions, masses and torques."""
    if [(x.name, x.angle) for x in a.bodies] != [(x.name, x.angle) for x in b.bodies]:
        return "other bodies or rest angles"
    if [(j.name, j.a, j.b, j.limits, j.max_speed) for j in a.joints] != \
            [(j.name, j.a, j.b, j.limits, j.max_speed) for j in b.joints]:
        return "other joints, limits or max speeds"
    if (a.torso, a.fall, a.feet, a.friction) != (b.torso, b.fall, b.feet, b.friction):
        return "another torso, fall or feet bodies, or friction"
    return None
