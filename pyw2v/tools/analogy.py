"""pyw2v-word-analogy: word-analogy.c's interactive "a is to b as c is to ?"."""
import click

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

PROMPT = b"Enter three words (EXIT to break): "
# word-analogy.c reports an unknown word at position 0, and so also treats
# the word really at row 0 (normally </s>) as unknown; reproduced on purpose.
NOT_FOUND = 0
FLOOR = 0.0  # word-analogy.c's initial bestd: only positive similarities are listed


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vectors", metavar="VEC")
def cli(vectors):
    """Print the 40 words closest to b - a + c for each line "a b c" on stdin.

    Reads VEC (word2vec binary or text format), then one query per line until
    a line reads EXIT (or input ends), like the C tool.
    """
    words, matrix = load_unit_vectors(vectors)
    positions = first_positions(words)
    for line in queries(PROMPT):
        query_words = split_like_c(line)
        if len(query_words) < 3:
            click.echo(
                f"Only {len(query_words)} words were entered.. three words are needed "
                "at the input to perform the calculation"
            )
            continue
        rows = look_up(query_words, positions, NOT_FOUND)
        if rows is None:
            continue
        a, b, c = (matrix[row] for row in rows[:3])
        target = unit_like_c((b - a) + c)  # C's left-to-right float sums
        # Every query word is left out, even past the third, as in C.
        hits = nearest_like_c(target, matrix, set(rows), FLOOR)
        print_table(b"Word              Distance", words, hits, FLOOR)
    return 0


def main(argv=None):
    return run_click_command("pyw2v-word-analogy", cli, argv)
