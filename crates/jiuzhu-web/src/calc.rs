//! The policy engine in the product: one calculation entry for `POST /api/v1/calc` and the `/calc`
//! page, the embedded policy library, and the readable rendering of a result and its explanation
//! ("为什么是这个金额") from the engine's public JSON / step output.

use chrono::NaiveDate;
use jiuzhu_domain::{DivisionCode, FieldError};
use jiuzhu_policy::{
    calc_json, parse_change, run_what_if_read, CalcOutput, Month, PolicyLibrary, RawHousehold,
    Step, WhatIfOutput,
};
use serde_json::Value;

use crate::error::AppError;

/// Parses a `YYYY-MM` month (field `month`).
pub fn parse_month(s: &str) -> Result<Month, FieldError> {
    Month::parse(s.trim()).ok_or_else(|| {
        FieldError::new(
            "month",
            "MONTH_INVALID",
            format!("月份“{s}”无效(格式:YYYY-MM)"),
        )
    })
}

/// Computes one household (the calc input JSON of docs/calc.md) for a month; every problem of
/// the input or the policy is a 422 with the field names.
pub fn calculate(
    lib: &PolicyLibrary,
    input: &Value,
    month: Month,
) -> Result<CalcOutput<RawHousehold>, AppError> {
    calc_json(lib, &input.to_string(), month).map_err(|e| AppError::invalid(e.field_errors()))
}

/// A what-if request (`POST /api/v1/whatif` and the `/whatif` page), as text fields.
pub struct WhatIfRequest<'a> {
    pub households: &'a [Value],
    /// `PARAM=VALUE` each.
    pub changes: &'a [String],
    pub month: &'a str,
    /// `YYYY-MM-DD`, empty for the first day of the month.
    pub from: &'a str,
    /// Empty for the region whose file holds the value in force.
    pub region: &'a str,
}

/// Runs a what-if over an uploaded caseload with the effective policies `lib`
/// (`jiuzhu_policy::run_what_if`, as `jiuzhu whatif`); every problem of the request is a 422
/// naming its field (`changes[i]`, `month`, `from`, `region`).
pub fn what_if(lib: &PolicyLibrary, req: &WhatIfRequest) -> Result<WhatIfOutput, AppError> {
    what_if_on(lib, req, None)
}

/// A what-if on a caseload already read — the store's (`jiuzhu_app::month::caseload`);
/// `req.households` is not used.
pub fn what_if_read(
    lib: &PolicyLibrary,
    req: &WhatIfRequest,
    read: jiuzhu_policy::caseload::ReadCaseload,
) -> Result<WhatIfOutput, AppError> {
    what_if_on(lib, req, Some(read))
}

fn what_if_on(
    lib: &PolicyLibrary,
    req: &WhatIfRequest,
    read: Option<jiuzhu_policy::caseload::ReadCaseload>,
) -> Result<WhatIfOutput, AppError> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    if req.changes.iter().all(|c| c.trim().is_empty()) {
        errors.push(FieldError::new(
            "changes",
            "REQUIRED",
            "请至少填写一项参数调整(参数名=值)",
        ));
    }
    for (i, c) in req.changes.iter().enumerate() {
        if c.trim().is_empty() {
            continue;
        }
        match parse_change(c, &format!("changes[{i}]")) {
            Ok(c) => changes.push(c),
            Err(e) => errors.push(e),
        }
    }
    let month = parse_month(req.month).map_err(|e| errors.push(e)).ok();
    let from = match req.from.trim() {
        "" => month.map(|m| m.first_day()),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| {
                errors.push(FieldError::new(
                    "from",
                    "DATE_INVALID",
                    format!("日期“{t}”无效(格式:YYYY-MM-DD)"),
                ))
            })
            .ok(),
    };
    let region = match req.region.trim() {
        "" => None,
        t => DivisionCode::parse(t)
            .map_err(|e| {
                errors.push(FieldError::new(
                    "region",
                    "REGION_INVALID",
                    format!("“{t}”{}", e.message_zh()),
                ))
            })
            .ok(),
    };
    match (month, from) {
        (Some(month), Some(from)) if errors.is_empty() => {
            let read =
                read.unwrap_or_else(|| jiuzhu_policy::caseload::read_caseload(req.households));
            run_what_if_read(lib, read, &changes, month, from, region)
                .map_err(|e| AppError::invalid(vec![e]))
        }
        _ => Err(AppError::invalid(errors)),
    }
}

/// Chinese name of a calc input field path (`members[1].expenses.medical` → 第2位成员·医疗支出);
/// `member_names` are the names of the members in input order.
pub fn field_label(field: &str, member_names: &[String]) -> String {
    if let Some(rest) = field.strip_prefix("members[") {
        if let Some((idx, sub)) = rest.split_once(']') {
            if let Ok(i) = idx.parse::<usize>() {
                let who = match member_names.get(i).filter(|n| !n.trim().is_empty()) {
                    Some(n) => format!("第{}位成员({n})", i + 1),
                    None => format!("第{}位成员", i + 1),
                };
                let sub = sub.trim_start_matches('.');
                return if sub.is_empty() {
                    who
                } else {
                    format!("{who}·{}", member_field_label(sub))
                };
            }
        }
    }
    let label = match field {
        "month" => "月份",
        "region" => "地区代码",
        "area" => "城乡类别",
        "code" => "户编号",
        "members" => "家庭成员",
        "household" => "家庭",
        "assets" => "家庭财产",
        "assets.financial" => "金融资产",
        "assets.dwellings" => "住房套数",
        "assets.vehicles" => "机动车辆数",
        "assets.business_registrations" => "市场主体登记数",
        "income_12m" => "近12个月家庭收入",
        "rigid_expenses_12m" => "近12个月刚性支出",
        "temporary" => "临时救助",
        "temporary.kind" => "临时救助类型",
        "temporary.months" => "临时救助月数",
        "temporary.months_without_income" => "无收入月数",
        "dibao_history" => "低保记录",
        "dibao_history.monthly_amount" => "原低保月金额",
        "dibao_history.income_exceeded_since" => "收入超标起始月",
        "dibao_history.reason" => "收入超标原因",
        "input" => "输入内容",
        "changes" => "参数调整",
        "from" => "生效日期",
        "caseload" => "家庭数据文件",
        "households" => "家庭列表",
        other if other.starts_with("changes[") => "参数调整",
        other if other.contains('.') => return format!("政策参数 {other}"),
        other => other,
    };
    label.to_string()
}

fn member_field_label(sub: &str) -> String {
    let label = match sub {
        "id_number" => "身份证号码",
        "name" => "姓名",
        "relation" => "与户主关系",
        "joined_on" => "加入日期",
        "left_on" => "退出日期",
        "died_on" => "死亡日期",
        "income" => "月收入",
        "expenses.medical" => "医疗支出",
        "expenses.disability" => "残疾康复支出",
        "expenses.education" => "教育支出",
        "employment_cost" => "就业成本",
        "disability" | "disability.kind" => "残疾类别",
        "disability.grade" => "残疾等级",
        "education" => "在学情况",
        "work_ability" => "劳动能力",
        "exclusion" | "exclusion.kind" => "不计入情形",
        "exclusion.since" => "不计入起始日期",
        "tekun" | "tekun.status" => "特困认定状态",
        "tekun.supporter" => "赡养人情况",
        "tekun.self_care" | "tekun.self_care.level" => "生活自理能力",
        other if other.starts_with("medical_costs") => "单笔医疗费用",
        other => other,
    };
    label.to_string()
}

/// One step of "为什么是这个金额", as shown on the page.
pub struct StepView {
    pub n: usize,
    pub rule: String,
    pub title: String,
    pub text: String,
    pub formula: String,
    pub value: String,
    pub sources: Vec<String>,
}

/// One program's line of the result.
pub struct ProgramView {
    pub name: String,
    pub amount: String,
    pub status: String,
}

/// A computed result, ready for the page.
pub struct ResultView {
    pub month: String,
    pub policy: String,
    pub programs: Vec<ProgramView>,
    pub total: String,
    pub steps: Vec<StepView>,
    /// The whole answer as `POST /api/v1/calc` gives it (identity numbers masked).
    pub json: String,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn text(v: &Value, path: &[&str]) -> String {
    match s(v, path) {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn flag(v: &Value, path: &[&str]) -> Option<bool> {
    s(v, path).and_then(Value::as_bool)
}

fn yes_no(b: Option<bool>, yes: &str, no: &str) -> String {
    match b {
        Some(true) => yes.to_string(),
        Some(false) => no.to_string(),
        None => "—".to_string(),
    }
}

fn route_zh(route: &str) -> &'static str {
    match route {
        "household" => "整户纳入",
        "grace" => "渐退(缓退期)",
        "single_person" => "单人户纳入",
        _ => "不纳入",
    }
}

fn step_view(n: usize, st: &Step) -> StepView {
    StepView {
        n,
        rule: st.rule.to_string(),
        title: st.title.to_string(),
        text: st.text.clone(),
        formula: st.formula.clone(),
        value: st.value.clone(),
        sources: st
            .sources
            .iter()
            .map(|c| {
                let mut line = format!(
                    "{} = {}({} {} 起)— 《{}》",
                    c.param, c.value, c.region_name, c.from, c.document
                );
                if let Some(no) = &c.number {
                    line.push_str(&format!("({no})"));
                }
                if let Some(cl) = &c.clause {
                    line.push_str(&format!(" {cl}"));
                }
                if let Some(note) = &c.note {
                    line.push_str(&format!(";{note}"));
                }
                line
            })
            .collect(),
    }
}

/// The answer as JSON with every identity number of the input snapshot masked (pages show
/// masked numbers only).
pub fn masked_json(out: &CalcOutput<RawHousehold>) -> Result<Value, AppError> {
    let mut v = serde_json::to_value(out).map_err(AppError::internal)?;
    if let Some(ms) = v
        .get_mut("input")
        .and_then(|i| i.get_mut("members"))
        .and_then(Value::as_array_mut)
    {
        for m in ms {
            if let Some(id) = m.get_mut("id_number") {
                if let Some(t) = id.as_str() {
                    *id = Value::String(jiuzhu_domain::id_number::mask_id_str(t));
                }
            }
        }
    }
    Ok(v)
}

/// The page model of a result: amounts per program, the steps in Chinese, the JSON.
pub fn result_view(out: &CalcOutput<RawHousehold>) -> Result<ResultView, AppError> {
    let v = masked_json(out)?;
    let r = &v["result"];
    let mut programs = vec![ProgramView {
        name: "最低生活保障(低保)".into(),
        amount: text(r, &["dibao", "amount"]),
        status: format!(
            "{};{}(标准 {} 元/人·月,计入 {} 人,可计收入 {} 元)",
            yes_no(flag(r, &["dibao", "eligible"]), "符合条件", "不符合条件"),
            route_zh(&text(r, &["dibao", "route"])),
            text(r, &["dibao", "standard"]),
            text(r, &["dibao", "members"]),
            text(r, &["dibao", "net_income"]),
        ),
    }];
    let tekun_people = r["members"]
        .as_array()
        .map(|ms| ms.iter().filter(|m| m.get("tekun").is_some()).count())
        .unwrap_or(0);
    programs.push(ProgramView {
        name: "特困人员救助供养".into(),
        amount: text(r, &["tekun_total"]),
        status: if tekun_people == 0 {
            "未申请或未认定".into()
        } else {
            format!("评估 {tekun_people} 人,见下方步骤")
        },
    });
    if r.get("temporary").is_some_and(|t| !t.is_null()) {
        programs.push(ProgramView {
            name: "临时救助(一次性)".into(),
            amount: text(r, &["temporary", "amount"]),
            status: format!(
                "{};{} 个月 × {} 元",
                yes_no(
                    flag(r, &["temporary", "eligible"]),
                    "符合条件",
                    "不符合条件"
                ),
                text(r, &["temporary", "months"]),
                text(r, &["temporary", "basis"]),
            ),
        });
    }
    let mut classes = vec![format!(
        "低保边缘家庭:{}",
        yes_no(flag(r, &["low_income", "edge"]), "是", "否")
    )];
    if let Some(b) = flag(r, &["low_income", "relative_poverty"]) {
        classes.push(format!("相对贫困:{}", yes_no(Some(b), "是", "否")));
    }
    if let Some(b) = flag(r, &["low_income", "rigid", "recognised"]) {
        classes.push(format!("刚性支出困难:{}", yes_no(Some(b), "是", "否")));
    }
    if flag(r, &["staff_relative_review"]) == Some(true) {
        classes.push("申请人为经办人员近亲属,须备案复核".into());
    }
    programs.push(ProgramView {
        name: "低收入人口认定".into(),
        amount: "—".into(),
        status: classes.join(";"),
    });
    let policy = out
        .policy
        .iter()
        .map(|p| format!("{}({} 版本 {})", p.name, p.region, p.version))
        .collect::<Vec<_>>()
        .join(" ← ");
    Ok(ResultView {
        month: out.month.to_string(),
        policy,
        programs,
        total: text(r, &["total"]),
        steps: out
            .explanation
            .iter()
            .enumerate()
            .map(|(i, st)| step_view(i + 1, st))
            .collect(),
        json: serde_json::to_string_pretty(&v).map_err(AppError::internal)?,
    })
}
