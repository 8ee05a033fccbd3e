"""Package discovery for the one part of the layout that pyproject.toml cannot express.

``graphedit.nodes`` and ``graphedit.resources`` live in the top-level folders ``nodes/`` and ``resources/``
(DESIGN.md: no generic top-level ``nodes`` package lands in site-packages). setuptools' ``packages.find`` names a
package after its folder, so it would install them as ``nodes`` and ``resources``; here every package under each
folder is discovered and given its installed name. Everything else (metadata, package data) is in pyproject.toml.
"""

import warnings

from setuptools import find_namespace_packages, setup
from setuptools.warnings import InformationOnly

# installed package -> source folder
PACKAGE_DIRS = {"graphedit": "graphedit", "graphedit.nodes": "nodes", "graphedit.resources": "resources"}


def discover_packages() -> list[str]:
    """Every package (namespace folders holding only data included) under each source folder, by installed name."""
    packages = []
    for name, folder in PACKAGE_DIRS.items():
        subpackages = find_namespace_packages(folder, exclude=["__pycache__", "*.__pycache__"])
        packages += [name, *(f"{name}.{sub}" for sub in subpackages)]
    return sorted(set(packages))


# An editable install of this layout goes through setuptools' import finder, which then tells every `make` that
# folders of the working directory named like the package may shadow it: here they are the package itself.
warnings.filterwarnings("ignore", message="Editable installation", category=InformationOnly)

setup(package_dir=PACKAGE_DIRS, packages=discover_packages())
