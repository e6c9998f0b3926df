"""The web compiler: a page and a JSON API over the compile pipeline (`toreador-compile serve`).

Split by job: ``service`` compiles a pasted program into files, highlighted HTML, a manifest
and a zip (pure functions over the pipeline); ``sandbox`` runs code under time, memory and
output limits in a temporary folder; ``app`` is the Starlette application (routes, request
size limit, the run switch); ``page.html`` is the page itself, plain HTML, CSS and JavaScript.
"""
