"""Go text/template for imginspect --format: lexer, parser, evaluator, functions, Go printing."""
