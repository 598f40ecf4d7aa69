class CdpError(Exception):
    """An error with a message meant for a person; the CLI prints it on one line."""
