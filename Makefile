# The two ways in. Everything else is in scripts/, called from here.
.PHONY: test demo clouds-start clouds-stop help

help:
	@echo "make test   set up everything and run every test (what CI runs)"
	@echo "make demo   set up everything and onboard a small estate on the local clouds"

test:
	bash scripts/test

demo:
	bash scripts/demo

# Helpers for working on the collection by hand.
clouds-start:
	bash scripts/setup && bash scripts/local-clouds start

clouds-stop:
	bash scripts/local-clouds stop
