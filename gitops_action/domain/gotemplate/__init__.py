"""A subset of Go's `text/template`, enough for Flux commit `messageTemplate`s.

Flux renders an ImageUpdateAutomation's commit message with Go's
`text/template` (plus the hermetic Sprig functions). Users copy those
templates into their config, so we must render them the same way without Go.
This package is the engine, in small pieces:

- `values`: how Go values (structs, maps, slices, nil, "no value") are modelled;
- `gofmt`: Go's `fmt` printing of those values (`%v`, `%s`, `%d`, `%q`, Print/ln);
- `lexer` and `parser`: template text to a syntax tree, with Go's error rules;
- `functions`: the builtin and Sprig functions we support;
- `executor`: walking the tree over a data value.

The public entry points are in `gitops_action.domain.templates`. Everything
here is pure and raises only `InvalidTemplate`.
"""
