"""Data Docs pages that render offline: Great Expectations' page templates load their
scripts and styles from CDNs (and its logo from a web bucket). `cdp check` serves them
from the Data Docs folder instead: it copies the files from the npm packages the
project pins (package.json) into `static/vendor/` and points each page it built at
them, and at Great Expectations' own `static/` files by their true depth."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from cdp.project import project_dir

log = logging.getLogger("cdp")

# Each address the page templates name, and the file of an npm package that serves it.
# Versions are the templates', but for popper.js (1.16.1, the one Bootstrap 4.3.1 asks
# for; the templates name 1.12.9) and bootstrap-table's filter-control styles (1.19.1,
# the scripts' version; the templates name 1.19.0).
ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/dist/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/dist/umd/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Files the styles above read by relative path (Font Awesome's fonts).
ASSET_FOLDERS = ("@fortawesome/fontawesome-free/webfonts",)
VENDOR = Path("static") / "vendor"
# A CDN file is checked against a hash the local copy has no need of; with
# `crossorigin`, a browser refuses a script read from a file:// page.
SUBRESOURCE_INTEGRITY = re.compile(r'\s+integrity="[^"]*"\s+crossorigin="anonymous"')
# Great Expectations counts a page's depth without the folders a dotted suite name
# (`insight.crm_contacts`) makes, so its own links to `static/` miss on result pages.
STATIC = re.compile(r'(["\'(])(?:\./|(?:\.\./)+)static/')
LOGO = re.compile(r'https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/'
                  r'(logo-long\.png)\?[^"]*')


def node_modules() -> Path:
    return project_dir() / "node_modules"


def serve_offline(docs: Path, built_since: float) -> bool:
    """Copy the assets into `docs` and point the pages written since `built_since`
    (a time stamp) at them. False, and the pages as they are, without the packages."""
    packages = node_modules()
    missing = [path for path in [*ASSETS.values(), *ASSET_FOLDERS]
               if not (packages / path).exists()]
    if missing:
        log.warning("Data Docs pages load their scripts from CDNs: %s is missing (run "
                    "`npm ci` in %s for pages that render offline)",
                    packages / missing[0], project_dir())
        return False
    copy_assets(packages, docs / VENDOR)
    for page in docs.rglob("*.html"):
        if page.stat().st_mtime >= built_since:
            point_at_copies(page, docs)
    return True


def copy_assets(packages: Path, vendor: Path) -> None:
    for path in ASSETS.values():
        copy = vendor / path
        if not copy.exists() or copy.stat().st_size != (packages / path).stat().st_size:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(packages / path, copy)
    for folder in ASSET_FOLDERS:
        shutil.copytree(packages / folder, vendor / folder, dirs_exist_ok=True)


def point_at_copies(page: Path, docs: Path) -> None:
    text = page.read_text(encoding="utf-8")
    to_root = os.path.relpath(docs, page.parent)
    for address, path in ASSETS.items():
        text = text.replace(f'"{address}"', f'"{to_root}/{VENDOR.as_posix()}/{path}"')
    text = STATIC.sub(lambda found: f"{found.group(1)}{to_root}/static/", text)
    text = SUBRESOURCE_INTEGRITY.sub("", text)
    text = LOGO.sub(lambda found: f"{to_root}/static/images/{found.group(1)}", text)
    page.write_text(text, encoding="utf-8")
