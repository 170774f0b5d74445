"""``python -m pyw2v``: the ``pyw2v`` command itself."""
from .scripts import pyw2v

if __name__ == "__main__":
    pyw2v()
