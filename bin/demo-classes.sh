#!/bin/bash
# Clusters the words into 500 classes with k-means (the original demo-classes.sh).
# Usage: demo-classes.sh [CORPUS]   (without CORPUS, text8 is downloaded)
set -e
. "$(dirname "$0")/demo-common.sh"
demo_corpus "$1"
time word2vec -train "$CORPUS" -output classes.txt -cbow 1 -size 200 -window 8 -negative 25 -hs 0 -sample 1e-4 -threads "$THREADS" -iter 15 -classes 500
sort classes.txt -k 2 -n > classes.sorted.txt
echo The word classes were saved to file classes.sorted.txt
