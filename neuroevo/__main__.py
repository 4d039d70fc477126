from neuroevo.cli import run

run()
