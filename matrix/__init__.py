"""The maturity matrix, the development pathway and related reference data, as validated YAML."""
from .loader import Catalog, MatrixFileError, Problem, discover, load_file, load_matrix, load_text, matrix_dirs, version_key
from .schema import (DevelopmentFunding, Domain, Element, Matrix, Pathway, ServiceSpecifications, Stage, Step,
                     cross_check, path_str)

__all__ = [
    "Catalog", "MatrixFileError", "Problem", "discover", "load_file", "load_matrix", "load_text", "matrix_dirs", "version_key",
    "DevelopmentFunding", "Domain", "Element", "Matrix", "Pathway", "ServiceSpecifications", "Stage", "Step",
    "cross_check", "path_str",
]
