"""``python -m pyw2v``: the ``pyw2v`` command itself."""
from .cli import command

if __name__ == "__main__":
    command()
