"""``fota-tui sim``: serve the simulated platforms on loopback HTTP."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fota_tui.errors import UsageError

if TYPE_CHECKING:
    from fota_tui.sim.server import LoopbackServer, Simulator


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="serve the four simulated platforms on loopback HTTP",
        description="Serve the simulated ThingSpace, OceanConnect, OneNET and AOVX APIs over"
        " HTTP and print each platform's base URL and demo credentials. Ctrl+C stops it.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=7, help="fleet seed (default: %(default)s)")
    parser.add_argument(
        "--devices", type=int, default=2000, help="fleet size (default: %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default: %(default)s)",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="e.g. 'oceanconnect:throttle=0.2,aovx:malformed=0.05,*:latency=0.1'",
    )
    parser.add_argument(
        "--profile-out",
        metavar="FILE",
        type=Path,
        help="also write a profile for this simulator to FILE"
        " (then: fota-tui profiles add NAME --from FILE)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fota_tui.sim.server import Simulator

    if not 1 <= args.devices <= 1_000_000:
        raise UsageError("--devices: expected a number from 1 to 1000000")
    if args.speed <= 0:
        raise UsageError("--speed: expected a number above 0")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port: expected 0..65535")
    simulator = Simulator.build(
        seed=args.seed, devices=args.devices, speed=args.speed, faults=args.faults
    )
    try:
        server = simulator.serve(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    stop = threading.Event()
    # Both set explicitly (before anything is printed): a shell starts background jobs
    # with SIGINT ignored, and Ctrl+C / kill must stop the simulator all the same.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        _announce(args, simulator, server)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print("simulator stopped", file=sys.stderr)
    return 0


def _announce(args: argparse.Namespace, simulator: Simulator, server: LoopbackServer) -> None:
    """One line per platform with its base URL and demo credentials; the profile file."""
    from fota_tui.config.store import atomic_write_text, profile_to_toml_data
    from fota_tui.sim.demo import demo_profile

    profile = demo_profile(simulator, server.root, refresh_interval=10)
    faults = f" faults: {args.faults}" if args.faults else ""
    print(
        f"fota-tui simulator on {server.root} ({args.devices} devices, seed {args.seed},"
        f" speed {args.speed}x){faults}"
    )
    for provider in profile.providers:
        creds = " ".join(
            f"{k}={v}" for k, v in simulator.dialects[provider.kind].credentials.items()
        )
        print(f"  {provider.kind.value:<13} {provider.base_url}  {creds}")
    if args.profile_out:
        import tomli_w

        atomic_write_text(args.profile_out, tomli_w.dumps(profile_to_toml_data(profile)))
        print(f"profile written to {args.profile_out}")
    print("Ctrl+C stops it.", flush=True)
