//! The API's schemas of the value types that serialise as text (feature `openapi`).

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::economics::AmountText;
use crate::{DivisionCode, IdNumber, Money};

fn text(description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([example])
        .into()
}

impl utoipa::PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        text("金额(元),两位小数的文本,不用浮点数", "369.00")
    }
}

impl utoipa::ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

impl utoipa::PartialSchema for DivisionCode {
    fn schema() -> RefOr<Schema> {
        text("行政区划代码(6、9、12 或 15 位)", "371002001")
    }
}

impl utoipa::ToSchema for DivisionCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DivisionCode")
    }
}

impl utoipa::PartialSchema for IdNumber {
    fn schema() -> RefOr<Schema> {
        text("公民身份号码(18 位,GB 11643)", "37100219700101001X")
    }
}

impl utoipa::ToSchema for IdNumber {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IdNumber")
    }
}

/// An amount as written in a request: text (`"300.00"`) or a JSON number, at most two decimals.
pub fn amount_as_written() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .description(Some("金额(元):文本或数字,最多两位小数"))
        .into()
}

impl utoipa::PartialSchema for AmountText {
    fn schema() -> RefOr<Schema> {
        amount_as_written()
    }
}

impl utoipa::ToSchema for AmountText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AmountText")
    }
}
