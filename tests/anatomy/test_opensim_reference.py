"""The OpenSim foot bones in the footdt frame, and the template compared with them.

Skipped when ../shared/data is absent (the data is never copied into the project).
"""

from __future__ import annotations

import numpy as np
import pytest

from footdt.anatomy.opensim_reference import (
    compare,
    comparison_markdown,
    mesh_bone_surfaces,
    opensim_bones,
    surface_metrics,
    to_foot_frame,
)
from tests.anatomy.foot_fixtures import OPENSIM_DIR, template_mesh

pytestmark = pytest.mark.skipif(not OPENSIM_DIR.is_dir(), reason="../shared/data is absent")


def test_frame_conversion_is_a_rotation_to_mm() -> None:
    p = to_foot_frame(np.array([[0.1, 0.02, 0.03]]))  # anterior, up, lateral (m)
    assert np.allclose(p, [[100.0, -30.0, 20.0]])  # anterior, medial negative, up (mm)


def test_opensim_bones_sit_where_a_right_foot_has_them() -> None:
    bones = opensim_bones(OPENSIM_DIR)
    m = {b: surface_metrics(s) for b, s in bones.items()}
    assert all(v["volume"] > 0 for v in m.values())  # closed and outward after the conversion
    c = {b: v["centroid"] for b, v in m.items()}
    assert c["metatarsal_1"][1] > c["metatarsal_3"][1] > c["metatarsal_5"][1]  # M1 medial (+y)
    assert c["phalanges"][0] > c["metatarsal_2"][0] > c["navicular"][0] > c["calcaneus"][0]
    assert c["tibia"][2] > c["talus"][2] > c["calcaneus"][2]
    assert 55 < m["metatarsal_1"]["length"] < 70  # mm


def test_template_matches_opensim_bone_sizes_and_positions() -> None:
    result = compare(mesh_bone_surfaces(template_mesh()), opensim_bones(OPENSIM_DIR))
    assert 0.9 < result["scale"] < 1.0
    assert np.all(np.abs(result["rotation_deg"]) < 6)
    for row in result["rows"]:
        bone = row["bone"]
        if "template" not in row:  # tibia, fibula: distal ends only
            assert row["centroid_distance"] < 20, bone
            continue
        assert row["centroid_distance"] < 10, bone
        if bone not in ("talus", "phalanges"):  # see docs/anatomy.md for these two
            ratio = row["template"]["length"] / row["opensim"]["length"]
            assert 0.8 < ratio < 1.2, (bone, ratio)
            assert 0.5 < row["template"]["volume"] / row["opensim"]["volume"] < 2.0, bone
    assert "| calcaneus |" in comparison_markdown(result)
