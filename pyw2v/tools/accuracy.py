"""pyw2v-compute-accuracy: compute-accuracy.c's analogy test, line for line."""
import sys

import click
import numpy as np

from ..errors import open_input
from .cfloat import best_row_like_c
from .command import run_click_command
from .neighbours import first_positions, load_unit_vectors
from .questions import bundled_questions, question_events

SEMANTIC_SECTIONS = 5  # C counts the first five sections as semantic
_FLOAT32_UNIT_ROUNDOFF = 2.0**-24
_SCORES_PER_BATCH = 20_000_000  # bounds the memory of one batch of similarities


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vectors", metavar="VEC")
@click.argument("threshold", type=click.IntRange(min=0), default=0)
@click.argument("questions", metavar="[QUESTIONS]", required=False)
def cli(vectors, threshold, questions):
    """Answer the analogy questions with VEC and print C's accuracy report.

    Only the first THRESHOLD words of VEC are used (0, the default, means all;
    30000 is the usual quick setting). The questions (questions-words.txt
    format) are read from the file QUESTIONS, or from stdin when QUESTIONS is
    missing or '-'. If stdin is a terminal and no QUESTIONS is given, the
    questions-words.txt of word2vec that ships with pyw2v is used.
    """
    data = _read_questions(questions)
    words, matrix = load_unit_vectors(vectors)
    if threshold:
        words, matrix = words[:threshold], np.ascontiguousarray(matrix[:threshold])
    vocab_upper = [word.upper() for word in words]
    events = list(question_events(data))
    answers = _answer(events, first_positions(vocab_upper), matrix)
    _print_report(events, answers, vocab_upper)
    return 0


def _read_questions(path):
    if path is None and sys.stdin.isatty():
        path = bundled_questions("questions-words.txt")
        # stderr, so that stdout stays C's report
        print(f"pyw2v-compute-accuracy: reading the bundled questions {path}", file=sys.stderr)
    if path is None or path == "-":
        return sys.stdin.buffer.read()
    with open_input(path) as stream:
        return stream.read()


def _answer(events, positions, matrix):
    """The best row for every answerable question (None for a skipped one), as C picks it."""
    questions = [event[1:] for event in events if event[0] == "question"]
    known = [
        [positions[w] for w in question] if all(w in positions for w in question) else None
        for question in questions
    ]
    asked = [i for i, rows in enumerate(known) if rows is not None]
    answers = [None] * len(questions)
    if not asked:
        return answers
    rows = np.array([known[i] for i in asked], dtype=np.int64)
    # C's float sums, left to right: (b - a) + c.
    targets = (matrix[rows[:, 1]] - matrix[rows[:, 0]]) + matrix[rows[:, 2]]
    batch = max(1, _SCORES_PER_BATCH // max(1, matrix.shape[0]))
    for start in range(0, len(asked), batch):
        stop = min(start + batch, len(asked))
        approx = targets[start:stop] @ matrix.T
        for offset in range(stop - start):
            question_rows = rows[start + offset, :3]
            target = targets[start + offset]
            answers[asked[start + offset]] = _best_row(target, approx[offset], question_rows, matrix)
    return answers


def _best_row(target, approx, question_rows, matrix):
    """Recompute C's arithmetic only for rows within rounding error of the best."""
    approx[question_rows] = -np.inf
    approx[np.isnan(approx)] = -np.inf
    top = approx.max()
    if not np.isfinite(top):
        return -1
    bound = 2 * target.shape[0] * _FLOAT32_UNIT_ROUNDOFF * (float(np.linalg.norm(target)) + 1e-30)
    candidates = np.flatnonzero(approx >= top - 4 * bound)
    return best_row_like_c(target, matrix, candidates)


def _percent(part, whole):
    """C's ``part / (float)whole * 100`` printed with ``%.2f`` (0/0 prints -nan, as on x86)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.float32(part) / np.float32(whole) * np.float32(100)
    return b"-nan" if np.isnan(value) else b"%.2f" % value


def _print_report(events, answers, vocab_upper):
    out = sys.stdout.buffer
    section = section_correct = section_total = 0
    total_correct = total = semantic_correct = semantic = syntactic_correct = syntactic = 0
    seen = asked = 0
    answer_iter = iter(answers)
    for event in events:
        if event[0] == "end":
            section_total = section_total or 1  # C's guard against 0/0; it shows "(0 / 1)"
            if section:
                out.write(
                    b"ACCURACY TOP1: %s %%  (%d / %d)\n"
                    % (_percent(section_correct, section_total), section_correct, section_total)
                )
                out.write(
                    b"Total accuracy: %s %%   Semantic accuracy: %s %%   Syntactic accuracy: %s %% \n"
                    % (
                        _percent(total_correct, total),
                        _percent(semantic_correct, semantic),
                        _percent(syntactic_correct, syntactic),
                    )
                )
            section += 1
        elif event[0] == "section":
            out.write(event[1] + b":\n")
            section_correct = section_total = 0
        else:
            asked += 1
            best = next(answer_iter)
            if best is None:
                continue
            seen += 1
            correct = best >= 0 and vocab_upper[best] == event[4]
            is_semantic = section <= SEMANTIC_SECTIONS
            section_correct += correct
            total_correct += correct
            semantic_correct += correct and is_semantic
            syntactic_correct += correct and not is_semantic
            semantic += is_semantic
            syntactic += not is_semantic
            section_total += 1
            total += 1
    out.write(b"Questions seen / total: %d %d   %s %% \n" % (seen, asked, _percent(seen, asked)))


def main(argv=None):
    return run_click_command("pyw2v-compute-accuracy", cli, argv)
