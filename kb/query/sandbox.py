"""The kernel fence around query and update workers: no network, whatever the query says.

Oxigraph follows SERVICE IRIs and LOAD sources over HTTP. The query check refuses
both before evaluation, but a check is only as good as its parser, so the
worker also asks the kernel (seccomp, through libseccomp) to refuse every
socket except Unix ones, every ``connect`` and io_uring (which could open
sockets behind seccomp's back). The filter is inherited and cannot be lifted.
"""

from __future__ import annotations

import errno
import os
import socket

# What the fence refuses: address families that reach a network, and the calls that reach a peer.
_FAMILIES = ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_BLUETOOTH", "AF_VSOCK", "AF_CAN")
_CALLS = ("connect", "io_uring_setup", "io_uring_enter", "io_uring_register")


def install_fence() -> str | None:
    """Fence this process off the network for good; return None, or why the fence could not be set."""
    if os.environ.get("CKB_FENCE") == "off":
        # What a platform without libseccomp gets: the abuse tests check that the query check
        # alone keeps SERVICE and LOAD off the network (ckb serve --no-sandbox then runs).
        return "the network fence is switched off (CKB_FENCE=off)"
    try:
        import pyseccomp as seccomp

        fence = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in _FAMILIES:
            family = getattr(socket, name, None)
            if family is not None:
                fence.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.EQ, int(family)))
        for call in _CALLS:
            fence.add_rule(seccomp.ERRNO(errno.EACCES), call)
        fence.load()  # sets no_new_privs first, so no exec can shed the filter
    except Exception as err:  # no libseccomp, an old kernel, or a seccomp-less container
        return f"the network fence (seccomp) could not be set up: {err}"
    return None


def fenced() -> bool:
    """True if this process cannot open a network socket (checked by trying)."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except OSError:
        return True
    return False
