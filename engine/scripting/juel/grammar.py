"""The grammar of JUEL's expressions (EL 2.2) and its parser, built once at import."""

from __future__ import annotations

from collections.abc import Mapping

from lark import Lark

# EL 2.2's expression grammar, loosest binding first. Keywords are literal
# strings, so lark tells "and" from "android"; each operator gets its own alias,
# turned into Python by BINARY_OPERATORS.
_GRAMMAR = r"""
?start: ternary

?ternary: or_
    | or_ "?" ternary ":" ternary           -> conditional

?or_: and_
    | or_ ("||" | "or") and_                -> or_op

?and_: equality
    | and_ ("&&" | "and") equality          -> and_op

?equality: relation
    | equality ("==" | "eq") relation       -> eq_op
    | equality ("!=" | "ne") relation       -> ne_op

?relation: sum
    | relation ("<" | "lt") sum             -> lt_op
    | relation (">" | "gt") sum             -> gt_op
    | relation ("<=" | "le") sum            -> le_op
    | relation (">=" | "ge") sum            -> ge_op

?sum: product
    | sum "+" product                       -> add_op
    | sum "-" product                       -> sub_op

?product: unary
    | product "*" unary                     -> mul_op
    | product ("/" | "div") unary           -> div_op
    | product ("%" | "mod") unary           -> mod_op

?unary: postfix
    | "-" unary                             -> negative
    | ("!" | "not") unary                   -> not_op
    | "empty" unary                         -> empty

?postfix: primary
    | postfix "." NAME                      -> member
    | postfix "." NAME "(" [arguments] ")"  -> method
    | postfix "[" ternary "]"               -> index

?primary: NAME                              -> variable
    | NAME "(" [arguments] ")"              -> function
    | "(" ternary ")"                       -> group
    | "true"                                -> true
    | "false"                               -> false
    | "null"                                -> null
    | INT                                   -> integer
    | FLOAT                                 -> decimal
    | STRING                                -> string

arguments: ternary ("," ternary)*

NAME: /[^\W\d][\w$]*|\$[\w$]*/
INT: /[0-9]+/
FLOAT.2: /[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/
STRING: /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/s

%ignore /\s+/
"""

# Built once, at import (some 70 ms). lark's cache=True is left off: it would
# unpickle a file from the shared temporary directory.
PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False, propagate_positions=True)

BINARY_OPERATORS: Mapping[str, str] = {
    "or_op": "or", "and_op": "and", "eq_op": "==", "ne_op": "!=", "lt_op": "<", "gt_op": ">",
    "le_op": "<=", "ge_op": ">=", "add_op": "+", "sub_op": "-", "mul_op": "*", "div_op": "/",
    "mod_op": "%",
}
# EL's reserved words: none of them can name a variable.
RESERVED_WORDS = frozenset({
    "and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "true", "false", "null", "empty",
    "div", "mod", "instanceof",
})
