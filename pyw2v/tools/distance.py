"""pyw2v-distance: distance.c's interactive nearest-word search."""
import click
import numpy as np

from .command import run_click_command
from .neighbours import (
    first_positions,
    load_unit_vectors,
    look_up,
    nearest_like_c,
    print_table,
    queries,
    split_like_c,
    unit_like_c,
)

PROMPT = b"Enter word or sentence (EXIT to break): "
NOT_FOUND = -1  # the position distance.c prints for an unknown word
FLOOR = -1.0  # distance.c's initial bestd: only similarities above it are listed


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vectors", metavar="VEC")
def cli(vectors):
    """Print the 40 words closest to a word, or to the average of several.

    Reads VEC (word2vec binary or text format), then one query per line from
    stdin until a line reads EXIT (or input ends), like the C tool.
    """
    words, matrix = load_unit_vectors(vectors)
    positions = first_positions(words)
    for line in queries(PROMPT):
        query_words = split_like_c(line)
        rows = look_up(query_words, positions, NOT_FOUND)
        if rows is None:
            continue
        # C adds the (unit) rows in query order, then normalises the sum.
        total = np.zeros(matrix.shape[1], dtype=np.float32)
        for row in rows:
            total += matrix[row]
        hits = nearest_like_c(unit_like_c(total), matrix, set(rows), FLOOR)
        print_table(b"Word       Cosine distance", words, hits, FLOOR)
    return 0


def main(argv=None):
    return run_click_command("pyw2v-distance", cli, argv)
