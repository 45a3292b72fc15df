"""peerloop: meet one peer a week, keep the log, decide after six months."""

__version__ = "0.1.0"
