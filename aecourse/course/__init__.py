"""The machinery that runs the course: executing and stamping chapters, the
student edition, the exercise protocol's call side, the sandbox and grading.

Readers learning autoencoders never need it; `python -m aecourse` is its
command line.
"""
