"""The sandbox: untrusted strategy code runs in a confined worker process, never in the host."""
