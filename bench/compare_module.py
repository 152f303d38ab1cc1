"""bench/compare as a module, for the other bench scripts: one way to start, pin and measure servers
(Server, run_bench, machine_info, free_port, ...). bench/compare is a script without a .py suffix, so
it is loaded from its path."""
import importlib.machinery
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_compare():
    path = os.path.join(ROOT, "bench", "compare")
    loader = importlib.machinery.SourceFileLoader("bench_compare", path)
    spec = importlib.util.spec_from_loader("bench_compare", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
