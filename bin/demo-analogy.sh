#!/bin/bash
# Trains word vectors and opens word-analogy on them (the original demo-analogy.sh).
# Usage: demo-analogy.sh [CORPUS]   (without CORPUS, text8 is downloaded)
set -e
. "$(dirname "$0")/demo-common.sh"
demo_corpus "$1"
echo -----------------------------------------------------------------------------------------------------
echo Word analogies need much more training text than text8 to work well
echo Example input: paris france berlin
echo -----------------------------------------------------------------------------------------------------
time word2vec -train "$CORPUS" -output vectors.bin -cbow 1 -size 200 -window 8 -negative 25 -hs 0 -sample 1e-4 -threads "$THREADS" -binary 1 -iter 15
word-analogy vectors.bin
