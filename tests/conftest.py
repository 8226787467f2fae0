import os

# NO_COLOR changes every SVG snapshot; snapshots are taken in colour.
os.environ.pop("NO_COLOR", None)
