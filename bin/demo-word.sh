#!/bin/bash
# Trains word vectors and opens distance on them (the original demo-word.sh).
# Usage: demo-word.sh [CORPUS]   (without CORPUS, text8 is downloaded)
set -e
. "$(dirname "$0")/demo-common.sh"
demo_corpus "$1"
time word2vec -train "$CORPUS" -output vectors.bin -cbow 1 -size 200 -window 8 -negative 25 -hs 0 -sample 1e-4 -threads "$THREADS" -binary 1 -iter 15
distance vectors.bin
