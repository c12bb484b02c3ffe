"""Meshing: gmsh conforming tetrahedral meshes with one group per part, named surfaces, quality."""
