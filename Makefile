# The two commands of the README:
#   make demo   - installs pydl and runs the main demo (MNIST digits MLP, Python trains, Java predicts)
#   make test   - installs pydl with its test dependencies and runs every test (pytest + JUnit 5)
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
JUNIT_JAR ?= /usr/share/java/junit-platform-console-standalone.jar

.PHONY: demo test install install-test system-deps bench clean

system-deps:
	@command -v javac >/dev/null 2>&1 || { echo "installing a JDK (javac) ..."; apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless; }
	@command -v cmake >/dev/null 2>&1 || { echo "installing cmake ..."; apt-get update -qq && apt-get install -y -qq cmake g++; }

install: system-deps
	$(PIP) install --quiet ".[demo]"

install-test: system-deps
	@test -f $(JUNIT_JAR) || { echo "installing JUnit 5 (Debian junit5) ..."; apt-get update -qq && apt-get install -y -qq junit5; }
	$(PIP) install --quiet ".[test]"
	$(PIP) install --quiet --no-deps tf-keras==2.21.0

demo: install
	$(PYTHON) -m pydl demo

test: install-test
	cd tests && $(PYTHON) -m pytest -q .

bench: install
	$(PIP) install --quiet ".[bench]"
	$(PYTHON) bench/run_all.py

clean:
	rm -rf build dist *.egg-info .pytest_cache
