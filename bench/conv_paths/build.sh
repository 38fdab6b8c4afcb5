#!/bin/sh
# Builds bench/conv_paths/conv_paths (needs: apt-get install -y libdnnl-dev; pip install scipy-openblas32; a JDK for jni.h).
set -e
cd "$(dirname "$0")"
SOB=$(python -c "import scipy_openblas32 as s; print(s.get_lib_dir())")
SOI=$(python -c "import scipy_openblas32 as s; print(s.get_include_dir())")
JH=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(which javac)")")")}
g++ -std=c++17 -O3 -march=native -fopenmp -fno-math-errno -fno-trapping-math -I../../native/include -I"$SOI" \
  -I"$JH/include" -I"$JH/include/linux" conv_paths.cpp ../../native/cpu/memory.cpp -o conv_paths \
  -L"$SOB" -lscipy_openblas -Wl,-rpath,"$SOB" -ldnnl
echo "built $(pwd)/conv_paths"
