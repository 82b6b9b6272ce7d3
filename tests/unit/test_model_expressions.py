"""Terraform expressions: the fast readings agree with the HCL2 grammar's."""

from __future__ import annotations

import pytest

from compliance.model.expressions import (
    Placeholder,
    parse_expression,
    parse_template,
    parse_with_hcl,
    split_template,
)

CALLS = [
    'element(split("/", aws_lambda_function_url.health.function_url), 2)',
    "element(data.aws_availability_zones.azs.names, 1)",
    "element(data.aws_availability_zones.azs.names, count.index)",
    "tolist(aws_subnet.private[*].id)",
    "tolist(aws_subnet.private.*.id)",
    "lower(var.name)",
    'replace(aws_lambda_function_url.u.function_url, "https://", "")',
    "concat(aws_subnet.a.*.id, aws_subnet.b.*.id)",
    "length(data.aws_availability_zones.z.names)",
    'format("%s-%s", var.a, aws_kms_key.k.key_id)',
    "element(aws_subnet.x[*].id, 2)",
    "min(1, 2, 3)",
    "timestamp()",
    'split("/", data.terraform_remote_state.cross-stack-reference-input-a.outputs.url)',
]


def _reading(expression):  # the parts that matter to the model
    argument = expression.argument
    if isinstance(argument, Placeholder):
        argument = ("placeholder", tuple(t.parts for t in argument.traversals))
    return (
        expression.call,
        [(t.parts, t.functions, t.index, t.count_index) for t in expression.traversals],
        argument,
    )


@pytest.mark.parametrize("text", CALLS)
def test_fast_reading_of_calls_matches_the_grammar(text: str) -> None:
    parse_expression.cache_clear()
    assert _reading(parse_expression(text)) == _reading(parse_with_hcl(text))


def test_element_index_and_count_index_are_read() -> None:
    picked = parse_expression("element(data.aws_availability_zones.azs.names, 2)").traversals[0]
    assert (picked.index, picked.count_index) == (2, False)
    counted = parse_expression("element(data.aws_availability_zones.azs.names, count.index)")
    assert counted.traversals[0].count_index and len(counted.traversals) == 1


def test_jsonencode_argument_becomes_a_value_with_placeholders() -> None:
    expression = parse_expression(
        'jsonencode({"Statement" = [{"Effect" = "Allow", "Resource" = aws_kms_key.k.arn}], '
        'Version = "2012-10-17"})'
    )
    statement = expression.argument["Statement"][0]
    assert expression.argument["Version"] == "2012-10-17"
    assert statement["Effect"] == "Allow"
    assert isinstance(statement["Resource"], Placeholder)
    assert [t.parts for t in expression.traversals] == [("aws_kms_key", "k", "arn")]


def test_templates_split_at_balanced_interpolations() -> None:
    text = 'arn:${data.aws_partition.p.partition}:s3:::${format("%s-${var.x}", "b")}/*'
    parts = split_template(text)
    assert parts == [
        ("arn:", False),
        ("data.aws_partition.p.partition", True),
        (":s3:::", False),
        ('format("%s-${var.x}", "b")', True),
        ("/*", False),
    ]
    assert parse_template("$${literal}").literal_text == "${literal}"


def test_an_expression_hcl_cannot_read_has_no_references() -> None:
    expression = parse_expression("this is ( not hcl")
    assert expression.traversals == ()
