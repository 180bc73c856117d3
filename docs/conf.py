"""Sphinx configuration for the nengo-lmu documentation.

Build from the repository root, in an environment made with
``pip install -e ".[all]" -c constraints.txt``, with the ``pandoc`` binary on the
path (nbsphinx converts the notebooks' Markdown cells with it) and MathJax in
/usr/share/javascript/mathjax (the pages render math with a local copy); on Debian,
``apt-get install pandoc libjs-mathjax``::

    MPLBACKEND=Agg sphinx-build -W --keep-going -b html docs docs/_build/html

The notebooks in ``notebooks/`` are executed during the build (see ``nbsphinx_*``
below; ``-D nbsphinx_execute=never`` skips that for a quick look);
``docs/examples/*.nblink`` point at them, so they are never copied. The tables of
the results page are written at start-up from ``benchmarks/results/`` by
``results_pages.py``.
"""

import ast
import functools
import importlib
import inspect
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))  # results_pages, beside this file

# Quiet TensorFlow's C++ start-up messages when autodoc imports nengo_lmu.dl and
# nengo_lmu.tasks (the kernels that execute the notebooks inherit this too).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import results_pages  # noqa: E402
from sphinx.errors import ExtensionError  # noqa: E402
from sphinx.ext.autodoc import DataDocumenter, ModuleDocumenter  # noqa: E402
from sphinx.util import logging  # noqa: E402
from sphinx.util.inspect import object_description  # noqa: E402

import nengo_lmu  # noqa: E402

logger = logging.getLogger(__name__)
# pages older than this were not written by this build (check_offline)
BUILD_STARTED = time.time()

# The pinned NengoDL and nengo-loihi warn on import that they were not tested with
# Nengo 4.1; the test suite silences the same warnings (setup.cfg).
for package in ("NengoDL", "`nengo_loihi`"):
    warnings.filterwarnings(
        "ignore", message=f"This version of {package} has not been tested"
    )

# -- Project -----------------------------------------------------------------------

project = "nengo-lmu"
author = "nengo-lmu developers"
copyright = "nengo-lmu developers"
release = nengo_lmu.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "nbsphinx",
    "nbsphinx_link",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

# `name` in docstrings links to the Python object when one is documented here and
# renders as code otherwise.
default_role = "py:obj"

suppress_warnings = [
    # A References section may list works that its docstring does not cite.
    "ref.citation",
]

# -- API reference -----------------------------------------------------------------

# api.rst lists the modules; autosummary writes one page per module into
# docs/generated/ from _templates/autosummary/module.rst.
autosummary_generate = True
autosummary_imported_members = False

autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "none"
# A method without a docstring of its own (a Keras layer's ``call``, a Nengo
# process's ``make_step``) is listed with its signature only, not with the
# base class's documentation.
autodoc_inherit_docstrings = False

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- Notebooks (nbsphinx) ----------------------------------------------------------

# The notebooks are stored without outputs: execute every one of them, every build.
nbsphinx_execute = "always"
nbsphinx_kernel_name = "python3"
# Take the "python3" kernel of the environment that runs Sphinx, not one that a
# user-level kernel spec (~/.local/share/jupyter) points at another Python.
os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
# Seconds per cell; each tutorial cell runs for seconds, so only a hung kernel
# reaches this.
nbsphinx_timeout = 300
nbsphinx_allow_errors = False
# Draw figures inline even when the build runs with MPLBACKEND=Agg (the kernel
# inherits the environment, and ipykernel keeps a backend the environment sets).
nbsphinx_execute_arguments = ["--matplotlib=inline"]
nbsphinx_prolog = r"""
{% set path = env.metadata[env.docname]['nbsphinx-link-target'] %}

.. only:: html

    .. note::

        This page was generated from ``{{ path }}`` in the repository, and
        executed when the documentation was built.
"""
# Paths in the note above are given from the repository root.
nbsphinx_link_target_root = str(ROOT)

# -- Math, offline ----------------------------------------------------------------

# The pages render their math with MathJax 2 from Debian's libjs-mathjax
# (``apt-get install libjs-mathjax``), copied into the built site: no page loads a
# script from another host (check_offline, below, warns if one does).
MATHJAX = Path("/usr/share/javascript/mathjax")
# what TeX input and CommonHTML output need (a tenth of the package's 54 MB)
MATHJAX_PARTS = (
    "MathJax.js",
    "config/TeX-AMS_CHTML.js",
    "extensions",
    "jax/element",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "fonts/HTML-CSS/TeX/woff",
    "localization/en",
)
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML"
# Sphinx configures MathJax 2 (not 3) only when this is set.
mathjax2_config = {"CommonHTML": {"linebreaks": {"automatic": False}}}
# The notebooks use no widgets, which are all that require.js (from a CDN) is for.
nbsphinx_requirejs_path = ""

# -- HTML --------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"nengo-lmu {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {
    "getting_started": [],
    "results": [],
    "changes": [],
}

# -- Local extensions --------------------------------------------------------------


def module_sections_to_rubrics(app, what, name, obj, options, lines):
    """Turn the sections of a module docstring into rubrics.

    numpydoc leaves module docstrings as they are, so their sections (Conventions,
    References, ...) would become sections of the page, with the module's functions
    and classes nested under the last of them. As rubrics they look like the
    sections of a function's docstring.
    """
    if what != "module":
        return
    result = []
    i = 0
    while i < len(lines):
        title = lines[i].rstrip()
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if (
            title
            and not title[0].isspace()
            and len(set(underline)) == 1
            and underline[0] in "-=~^"
            and len(underline) >= len(title)
        ):
            result += [f".. rubric:: {title}", ""]
            i += 2
        else:
            result.append(lines[i])
            i += 1
    lines[:] = result


@functools.cache
def assigned_names(modname):
    """The names that the top level of a module's source assigns (not imports)."""
    try:
        source = inspect.getsource(importlib.import_module(modname))
    except (ImportError, OSError, TypeError, ValueError):
        return frozenset()
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(names)


class ModuleConstantDocumenter(DataDocumenter):
    """Document every public name that a module assigns, with or without a comment.

    autodoc lists module-level data only when it has a ``#:`` doc comment; this
    documenter takes the others (constants such as ``REALIZATIONS``): those that the
    module assigns itself, and those it imports and names in ``__all__``. A value
    whose ``repr`` is longer than ``MAX_VALUE_CHARS`` is left out of the signature.
    """

    objtype = "moduleconstant"
    directivetype = DataDocumenter.objtype
    priority = DataDocumenter.priority - 1
    MAX_VALUE_CHARS = 100

    @classmethod
    def can_document_member(cls, member, membername, isattr, parent):
        if isattr or not isinstance(parent, ModuleDocumenter) or not parent.modname:
            return False
        # A package that re-exports a constant names it in __all__.
        exported = getattr(parent.object, "__all__", None) or ()
        return membername in assigned_names(parent.modname) or membername in exported

    def check_module(self):
        # An instance of a class from another package (a nengo.LinearFilter) has
        # that package as its __module__, but can_document_member has already
        # checked that this module assigns it.
        return True

    def get_doc(self):
        comment = self.get_module_comment(self.objpath[-1])
        return [comment] if comment else []

    def should_suppress_value_header(self):
        if super().should_suppress_value_header():
            return True
        try:
            return len(object_description(self.object)) > self.MAX_VALUE_CHARS
        except ValueError:
            return True


def write_cli_help(folder):
    """Write ``nengo-lmu [command] --help`` to ``folder/<command>.txt``."""
    import argparse  # pylint: disable=import-outside-toplevel

    from nengo_lmu.cli import build_parser

    folder.mkdir(parents=True, exist_ok=True)
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
    try:
        parser = build_parser()
        texts = {"nengo-lmu": parser.format_help()}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, subparser in action.choices.items():
                    texts[name] = subparser.format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    for name, text in texts.items():
        path = folder / f"{name}.txt"
        # Rewrite only what changed, so Sphinx does not rebuild api.rst every time.
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def register_nblink_format(app, config):
    """Add the entry that nbsphinx_link adds to ``nbsphinx_custom_formats``.

    nbsphinx_link adds it while it reads the first notebook, after the
    configuration has been compared with that of the previous build, so every
    build would find the configuration changed and read every page again. Added
    here, after nbsphinx has registered its formats (it must not register .nblink,
    which nbsphinx_link parses), the configuration is the same from build to build.
    """
    config.nbsphinx_custom_formats.setdefault(
        ".nblink", ["nbformat.reads", {"as_version": 4}]
    )


def copy_mathjax(app):
    """Copy the parts of Debian's MathJax that the pages use into ``_static``."""
    if app.builder.format != "html":
        return
    if not (MATHJAX / "MathJax.js").exists():
        raise ExtensionError(
            f"MathJax not found in {MATHJAX}: the pages render math with a local "
            "copy; install it with `apt-get install libjs-mathjax`"
        )
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = MATHJAX / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / part)


# a script, stylesheet or other resource that a page loads from another host
REMOTE_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)=[\"'](?:https?:)?//[^\"']*",
    re.IGNORECASE,
)


def remote_resources(folder, since=0.0):
    """{page: [tag, ...]} for each HTML page under ``folder`` (written at or after
    the time ``since``) that loads a resource from another host (links that a
    reader follows, ``<a href>``, are not loads)."""
    found = {}
    for path in sorted(Path(folder).rglob("*.html")):
        if path.stat().st_mtime < since:
            continue
        tags = REMOTE_RESOURCE.findall(path.read_text(encoding="utf-8"))
        if tags:
            found[str(path.relative_to(folder))] = tags
    return found


def check_offline(app, exception):
    """Warn (an error under -W) for every page this build wrote that loads from
    another host (an incremental build leaves the pages it did not rewrite)."""
    if exception is not None or app.builder.format != "html":
        return
    for page, tags in remote_resources(app.outdir, BUILD_STARTED).items():
        logger.warning("%s loads from another host: %s", page, tags[0])


def setup(app):
    app.connect("builder-inited", copy_mathjax)
    app.connect("build-finished", check_offline)
    app.connect("config-inited", register_nblink_format, priority=900)
    app.connect("autodoc-process-docstring", module_sections_to_rubrics)
    app.add_autodocumenter(ModuleConstantDocumenter)
    # The reference of the command line (api.rst) includes these files.
    write_cli_help(DOCS / "generated" / "cli")
    # The tables of results.rst, from the committed files in benchmarks/results/.
    results_pages.write_pages(DOCS / "generated" / "results")
