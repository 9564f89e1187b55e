#!/usr/bin/env bash
# Builds the hello example: compiles hello.c and runs its tests.
set -euo pipefail
mkdir -p dist
cc -O2 -Wall -o dist/hello src/hello.c
./dist/hello "CodePipeline" > dist/greeting.txt
grep -q 'Hello, CodePipeline!' dist/greeting.txt
echo "built $(wc -c < dist/hello) bytes; greeting: $(cat dist/greeting.txt)"
