"""Test support for users and for this project: the real mock as a child process (process) and the pytest
fixture built on it (plugin, registered as the ``ipyy_mock`` pytest plugin)."""

from ipyy_mock.testing.process import MockServerProcess, console_script, free_port

__all__ = ["MockServerProcess", "console_script", "free_port"]
