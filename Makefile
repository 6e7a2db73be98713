# Makefile: PGXS build of chronicle.so (src/pg glue + the src/core static
# library built by CMake), its install, and `make installcheck`
# (pg_regress tests in sql/ + isolation specs in test/isolation/).
EXTENSION    = chronicle
MODULE_big   = chronicle
DATA         = $(wildcard sql/chronicle--*.sql)
DOCS         = README.md
PG_SRCS      = $(wildcard src/pg/*.cpp)
OBJS         = $(PG_SRCS:.cpp=.o)
REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/chronicle--%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=chronicle
ISOLATION    = $(patsubst test/isolation/specs/%.spec,%,$(wildcard test/isolation/specs/*.spec))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=chronicle

CORE_BUILD   = build/core
CORE_LIB     = $(CORE_BUILD)/libchronicle_core.a
SHLIB_LINK  += $(CORE_LIB) -lstdc++
EXTRA_CLEAN  = chronicle.control build

PG_CONFIG   ?= pg_config
# PGXS would otherwise emit LLVM bitcode for every object with clang.
override with_llvm = no
PG_CXXFLAGS += -std=c++17 -fPIC -Wall -Wno-register -Isrc/core
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
# -isystem for the server headers: their warnings are not ours.
override CPPFLAGS := $(patsubst -I%server,-isystem %server,$(CPPFLAGS))

all: chronicle.control

chronicle.control: extension.control
	cp $< $@

$(OBJS): $(wildcard src/core/*.hpp) $(wildcard src/pg/*.hpp)

$(shlib): $(CORE_LIB)

$(CORE_LIB): $(wildcard src/core/*.cpp) $(wildcard src/core/*.hpp) CMakeLists.txt
	cmake -S . -B $(CORE_BUILD) -DCHRONICLE_UNIT_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(CORE_BUILD) --target chronicle_core

.PHONY: unittest
unittest:
	cmake -S . -B build/unit -DCHRONICLE_UNIT_TESTS=ON >/dev/null
	cmake --build build/unit -j2
	cd build/unit && ctest --output-on-failure
