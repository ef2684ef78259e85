# Souk top-level entry points. The README's quick start is `make demo` and `make test`.
BUILD_DIR ?= build
SAN_DIR   ?= build-san
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?=
# libtorch's OpenMP workers busy-wait by default, which slows everything
# badly when tests or other jobs share the cores.
export OMP_WAIT_POLICY ?= PASSIVE

LAUNCHER := $(shell command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: setup build demo test test-fast test-san bench clean format

setup:
	bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER) $(CMAKE_FLAGS)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Generates a bilingual store, imports it, checks its quality and prints a summary.
demo: build
	./$(BUILD_DIR)/souk demo --data-dir ./souk-data

# The whole test suite: unit + integration (gcc build), then the ASan/UBSan build
# (clang) running the sanitizer and bounded fuzz labels.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE 'sanitize|fuzz'
	$(MAKE) test-san

test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE 'sanitize|fuzz|slow'

$(SAN_DIR)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(SAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DSOUK_SANITIZE=ON -DSOUK_BUILD_FUZZ=ON -DSOUK_SANITIZE_ONLY=ON \
	  -DSOUK_BUILD_CONSOLE=OFF $(LAUNCHER)

test-san: setup $(SAN_DIR)/build.ninja
	cmake --build $(SAN_DIR) -j $(JOBS)
	cd $(SAN_DIR) && ctest --output-on-failure -j $(JOBS) -L 'sanitize|fuzz'

bench: build
	bash bench/run_all.sh

format:
	find src tests bench fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR)
