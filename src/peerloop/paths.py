"""Where peerloop keeps its data: --home, else $PEERLOOP_HOME, else the platform's user data folder."""

import os
from pathlib import Path

HOME_ENV = "PEERLOOP_HOME"


def data_home(override: Path | None = None) -> Path:
    """Resolve the data folder without creating it: nothing exists until a command writes."""
    if override is not None:
        return override.expanduser()
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("peerloop", appauthor=False))
