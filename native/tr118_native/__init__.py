"""Python side of tr118-action.

`tr118_native.fixture` builds the small trained GPT-2 fixture under `fixtures/model/` that the TypeScript tests
benchmark and gate. Later roles (PyTorch / TensorRT workers) live beside it as their own subpackages.
"""

__version__ = "0.1.0"
