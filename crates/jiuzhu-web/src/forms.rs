//! Inputs shared by the pages (form bodies) and the API (JSON bodies), and their validation into
//! domain values with Chinese field errors.

use axum::http::StatusCode;
use chrono::NaiveDate;
use jiuzhu_domain::{
    Area, Department, Disability, DisabilityKind, DivisionCode, EducationStage, Employment,
    FieldError, HouseholdFacts, IdNumber, PersonFacts, Relation, Role, Sex, WorkAbility,
};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::error::AppError;
use jiuzhu_app::accounts;

/// Accepts a number, a numeric string or an empty string (→ `None`).
pub fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        N(i64),
        S(String),
    }
    match Option::<V>::deserialize(d)? {
        None => Ok(None),
        Some(V::N(n)) => Ok(Some(n)),
        Some(V::S(s)) if s.trim().is_empty() => Ok(None),
        Some(V::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("不是整数:{s}"))),
    }
}

/// Accepts a boolean or the strings a form sends (`on`, `true`, `1`, `是` / `false`, `0`, `否`);
/// an empty string is `None`.
pub fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        B(bool),
        S(String),
    }
    match Option::<V>::deserialize(d)? {
        None => Ok(None),
        Some(V::B(b)) => Ok(Some(b)),
        Some(V::S(s)) => match s.trim() {
            "" => Ok(None),
            "on" | "true" | "1" | "是" | "yes" => Ok(Some(true)),
            "off" | "false" | "0" | "否" | "no" => Ok(Some(false)),
            other => Err(serde::de::Error::custom(format!("不是是/否:{other}"))),
        },
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Collects field errors while converting an input.
#[derive(Default)]
pub struct Check {
    pub errors: Vec<FieldError>,
}

impl Check {
    pub fn err(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }
    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid(self.errors))
        }
    }
    pub fn required<'a>(
        &mut self,
        field: &str,
        label: &str,
        v: &'a Option<String>,
    ) -> Option<&'a str> {
        let r = nonempty(v);
        if r.is_none() {
            self.err(field, "REQUIRED", format!("请填写{label}"));
        }
        r
    }
    pub fn division(&mut self, field: &str, v: Option<&str>) -> Option<DivisionCode> {
        let v = v?;
        match DivisionCode::parse(v) {
            Ok(c) => Some(c),
            Err(e) => {
                self.err(field, e.code(), e.message_zh());
                None
            }
        }
    }
    pub fn date(&mut self, field: &str, label: &str, v: Option<&str>) -> Option<NaiveDate> {
        let v = v?;
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(
                    field,
                    "DATE",
                    format!("{label}“{v}”不是有效日期(格式:YYYY-MM-DD)"),
                );
                None
            }
        }
    }
    pub fn id_number(&mut self, field: &str, v: Option<&str>) -> Option<IdNumber> {
        let v = v?;
        match IdNumber::parse(v) {
            Ok(id) => Some(id),
            Err(e) => {
                self.err(field, e.code(), e.message_zh());
                None
            }
        }
    }
    pub fn code<T>(
        &mut self,
        field: &str,
        label: &str,
        v: Option<&str>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let v = v?;
        let r = parse(v);
        if r.is_none() {
            self.err(field, "UNKNOWN_VALUE", format!("{label}“{v}”不是可选的值"));
        }
        r
    }
}

/// A person's facts, for creating (`id_number`, `name`, `residence_division` required) or
/// updating (every empty field keeps its current value; `row_version` required).
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct PersonInput {
    /// Identity number (creation only).
    pub id_number: Option<String>,
    pub name: Option<String>,
    /// `male`/`female` or 男/女; derived from the identity number when empty.
    pub sex: Option<String>,
    /// YYYY-MM-DD; derived from the identity number when empty.
    pub birth_date: Option<String>,
    pub hukou_division: Option<String>,
    pub residence_division: Option<String>,
    pub phone: Option<String>,
    /// visual, hearing, speech, physical, intellectual, mental, multiple (or the Chinese label);
    /// `none` removes the disability.
    pub disability_kind: Option<String>,
    #[serde(deserialize_with = "de_opt_i64")]
    pub disability_grade: Option<i64>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub serious_illness: Option<bool>,
    pub illness_note: Option<String>,
    pub education: Option<String>,
    pub employment: Option<String>,
    pub work_ability: Option<String>,
    pub bank_account: Option<String>,
    /// The date the facts are in force from (default: today).
    pub valid_from: Option<String>,
    /// The version the update is based on (updates only).
    #[serde(deserialize_with = "de_opt_i64")]
    pub row_version: Option<i64>,
}

impl PersonInput {
    /// Applies the input onto `base` (the current facts, or minimal facts for a new person).
    pub fn apply(&self, c: &mut Check, base: &PersonFacts) -> PersonFacts {
        let mut f = base.clone();
        if let Some(v) = nonempty(&self.name) {
            f.name = v.to_string();
        }
        if let Some(s) = c.code("sex", "性别", nonempty(&self.sex), Sex::parse) {
            f.sex = s;
        }
        if let Some(d) = c.date("birth_date", "出生日期", nonempty(&self.birth_date)) {
            f.birth_date = d;
        }
        if let Some(d) = c.division("hukou_division", nonempty(&self.hukou_division)) {
            f.hukou_division = Some(d);
        }
        if let Some(d) = c.division("residence_division", nonempty(&self.residence_division)) {
            f.residence_division = d;
        }
        if let Some(p) = nonempty(&self.phone) {
            if p.len() < 7 || !p.chars().all(|ch| ch.is_ascii_digit() || ch == '-') {
                c.err("phone", "PHONE", "联系电话应为数字");
            } else {
                f.phone = Some(p.to_string());
            }
        }
        match nonempty(&self.disability_kind) {
            Some("none") | Some("无") => f.disability = None,
            Some(k) => {
                let kind = c.code(
                    "disability_kind",
                    "残疾类别",
                    Some(k),
                    DisabilityKind::parse,
                );
                let grade = self
                    .disability_grade
                    .or(f.disability.map(|d| d.grade as i64));
                match (kind, grade) {
                    (Some(kind), Some(g @ 1..=4)) => {
                        f.disability = Some(Disability {
                            kind,
                            grade: g as u8,
                        })
                    }
                    (Some(_), _) => {
                        c.err("disability_grade", "DISABILITY_GRADE", "残疾等级应为1至4级")
                    }
                    _ => {}
                }
            }
            None => {
                if let (Some(g), Some(d)) = (self.disability_grade, f.disability.as_mut()) {
                    if (1..=4).contains(&g) {
                        d.grade = g as u8;
                    } else {
                        c.err("disability_grade", "DISABILITY_GRADE", "残疾等级应为1至4级");
                    }
                }
            }
        }
        if let Some(b) = self.serious_illness {
            f.serious_illness = b;
        }
        if let Some(n) = nonempty(&self.illness_note) {
            f.illness_note = Some(n.to_string());
        }
        if let Some(v) = c.code(
            "education",
            "在学情况",
            nonempty(&self.education),
            EducationStage::parse,
        ) {
            f.education = v;
        }
        if let Some(v) = c.code(
            "employment",
            "就业状况",
            nonempty(&self.employment),
            Employment::parse,
        ) {
            f.employment = v;
        }
        if let Some(v) = c.code(
            "work_ability",
            "劳动能力",
            nonempty(&self.work_ability),
            WorkAbility::parse,
        ) {
            f.work_ability = v;
        }
        if let Some(b) = nonempty(&self.bank_account) {
            f.bank_account = Some(b.to_string());
        }
        if f.name.trim().is_empty() {
            c.err("name", "REQUIRED", "请填写姓名");
        }
        f
    }

    pub fn valid_from(&self, c: &mut Check, today: NaiveDate) -> NaiveDate {
        c.date("valid_from", "生效日期", nonempty(&self.valid_from))
            .unwrap_or(today)
    }

    /// For creation: the identity number and the facts.
    pub fn to_new(&self, today: NaiveDate) -> Result<(IdNumber, PersonFacts, NaiveDate), AppError> {
        let mut c = Check::default();
        let id = c
            .required("id_number", "身份证号码", &self.id_number)
            .and_then(|v| c.id_number("id_number", Some(v)));
        c.required("name", "姓名", &self.name);
        let residence = c
            .required("residence_division", "居住地区划", &self.residence_division)
            .and_then(|v| c.division("residence_division", Some(v)));
        let valid_from = self.valid_from(&mut c, today);
        let (Some(id), Some(residence)) = (id, residence) else {
            return Err(c
                .finish()
                .err()
                .unwrap_or_else(|| AppError::invalid(vec![])));
        };
        let base = PersonFacts::minimal(&id, "", residence);
        let facts = self.apply(&mut c, &base);
        c.finish()?;
        Ok((id, facts, valid_from))
    }

    /// For an update: the version and the new facts.
    pub fn to_update(
        &self,
        current: &PersonFacts,
        today: NaiveDate,
    ) -> Result<(i64, PersonFacts, NaiveDate), AppError> {
        let mut c = Check::default();
        if self.row_version.is_none() {
            c.err("row_version", "REQUIRED", "缺少记录版本号(row_version)");
        }
        let facts = self.apply(&mut c, current);
        let valid_from = self.valid_from(&mut c, today);
        c.finish()?;
        Ok((self.row_version.unwrap_or_default(), facts, valid_from))
    }
}

/// A household's facts, for creating (`address`, `division`, `area` required) or updating
/// (empty fields keep their value; `row_version` required).
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct HouseholdInput {
    /// Household number (creation only; generated when empty).
    pub code: Option<String>,
    pub address: Option<String>,
    pub division: Option<String>,
    /// `urban`/`rural` or 城市/农村.
    pub area: Option<String>,
    pub valid_from: Option<String>,
    #[serde(deserialize_with = "de_opt_i64")]
    pub row_version: Option<i64>,
}

impl HouseholdInput {
    pub fn to_new(&self, today: NaiveDate) -> Result<jiuzhu_app::records::NewHousehold, AppError> {
        let mut c = Check::default();
        let address = c
            .required("address", "住址", &self.address)
            .map(str::to_string);
        let division = c
            .required("division", "所属区划", &self.division)
            .and_then(|v| c.division("division", Some(v)));
        let area = c
            .required("area", "城乡类别", &self.area)
            .and_then(|v| c.code("area", "城乡类别", Some(v), Area::parse));
        let valid_from = c
            .date("valid_from", "生效日期", nonempty(&self.valid_from))
            .unwrap_or(today);
        let code = nonempty(&self.code).map(str::to_string);
        match (address, division, area) {
            (Some(address), Some(division), Some(area)) if c.errors.is_empty() => {
                Ok(jiuzhu_app::records::NewHousehold {
                    code,
                    facts: HouseholdFacts {
                        address,
                        division,
                        area,
                    },
                    valid_from,
                })
            }
            _ => Err(c
                .finish()
                .err()
                .unwrap_or_else(|| AppError::invalid(vec![]))),
        }
    }

    pub fn to_update(
        &self,
        current: &HouseholdFacts,
        today: NaiveDate,
    ) -> Result<(i64, HouseholdFacts, NaiveDate), AppError> {
        let mut c = Check::default();
        if self.row_version.is_none() {
            c.err("row_version", "REQUIRED", "缺少记录版本号(row_version)");
        }
        let mut f = current.clone();
        if let Some(a) = nonempty(&self.address) {
            f.address = a.to_string();
        }
        if let Some(d) = c.division("division", nonempty(&self.division)) {
            f.division = d;
        }
        if let Some(a) = c.code("area", "城乡类别", nonempty(&self.area), Area::parse) {
            f.area = a;
        }
        let valid_from = c
            .date("valid_from", "生效日期", nonempty(&self.valid_from))
            .unwrap_or(today);
        c.finish()?;
        Ok((self.row_version.unwrap_or_default(), f, valid_from))
    }
}

/// Adds a person (by id or identity number) to a household.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct MemberInput {
    #[serde(deserialize_with = "de_opt_i64")]
    pub person_id: Option<i64>,
    pub id_number: Option<String>,
    /// head, spouse, child, parent, grandchild, grandparent, sibling, other (or 户主, 配偶…).
    pub relation: Option<String>,
    pub joined_on: Option<String>,
    pub reason: Option<String>,
}

pub struct MemberSpec {
    pub person_id: Option<i64>,
    pub id_number: Option<IdNumber>,
    pub relation: Relation,
    pub joined_on: NaiveDate,
    pub reason: Option<String>,
}

impl MemberInput {
    pub fn check(&self, today: NaiveDate) -> Result<MemberSpec, AppError> {
        let mut c = Check::default();
        let id_number = c.id_number("id_number", nonempty(&self.id_number));
        if self.person_id.is_none() && nonempty(&self.id_number).is_none() {
            c.err("id_number", "REQUIRED", "请填写成员的身份证号码");
        }
        let relation = c
            .required("relation", "与户主关系", &self.relation)
            .and_then(|v| c.code("relation", "与户主关系", Some(v), Relation::parse));
        let joined_on = c
            .date("joined_on", "加入日期", nonempty(&self.joined_on))
            .unwrap_or(today);
        match relation {
            Some(relation) if c.errors.is_empty() => Ok(MemberSpec {
                person_id: self.person_id,
                id_number,
                relation,
                joined_on,
                reason: nonempty(&self.reason).map(str::to_string),
            }),
            _ => Err(c
                .finish()
                .err()
                .unwrap_or_else(|| AppError::invalid(vec![]))),
        }
    }
}

/// Ends a membership.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct EndMemberInput {
    pub left_on: Option<String>,
    pub reason: Option<String>,
}

impl EndMemberInput {
    pub fn check(&self, today: NaiveDate) -> Result<(NaiveDate, Option<String>), AppError> {
        let mut c = Check::default();
        let d = c
            .date("left_on", "退出日期", nonempty(&self.left_on))
            .unwrap_or(today);
        c.finish()?;
        Ok((d, nonempty(&self.reason).map(str::to_string)))
    }
}

/// A new staff account.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct UserInput {
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// window_clerk, village_assistant, township_reviewer, county_approver, county_manager,
    /// department_officer, auditor, system_admin, security_admin, audit_admin (or the Chinese
    /// label). Takes effect when a security administrator approves the account.
    pub role: Option<String>,
    /// For department officers: medical_insurance, education, housing, human_resources.
    pub department: Option<String>,
    pub division: Option<String>,
}

impl UserInput {
    pub fn check(
        &self,
    ) -> Result<(String, String, Role, Option<Department>, DivisionCode), AppError> {
        let mut c = Check::default();
        let username = c
            .required("username", "用户名", &self.username)
            .map(str::to_string);
        if let Some(e) = username.as_deref().and_then(accounts::username_error) {
            c.errors.push(e);
        }
        let display = c
            .required("display_name", "姓名", &self.display_name)
            .map(str::to_string);
        let role = c
            .required("role", "角色", &self.role)
            .and_then(|v| c.code("role", "角色", Some(v), Role::parse));
        let department = c.code(
            "department",
            "部门",
            nonempty(&self.department),
            Department::parse,
        );
        if let Some(e) = role.and_then(|r| accounts::department_error(r, department)) {
            c.errors.push(e);
        }
        let division = c
            .required("division", "所属辖区", &self.division)
            .and_then(|v| c.division("division", Some(v)));
        match (username, display, role, division) {
            (Some(u), Some(d), Some(r), Some(div)) if c.errors.is_empty() => {
                Ok((u, d, r, department, div))
            }
            _ => Err(c
                .finish()
                .err()
                .unwrap_or_else(|| AppError::invalid(vec![]))),
        }
    }
}

/// The system administrator's changes to a staff account (empty fields keep their value).
/// Role, department and jurisdiction are the security administrator's ([`AccessInput`]); sent
/// here they are refused, never silently dropped.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct UserPatchInput {
    #[serde(deserialize_with = "de_opt_i64")]
    pub row_version: Option<i64>,
    pub display_name: Option<String>,
    /// `false` deactivates; `true` reactivates (the account then waits for approval again).
    #[serde(deserialize_with = "de_opt_bool")]
    pub active: Option<bool>,
    #[serde(deserialize_with = "de_opt_bool")]
    pub unlock: Option<bool>,
    #[schema(ignore)]
    pub role: Option<String>,
    #[schema(ignore)]
    pub department: Option<String>,
    #[schema(ignore)]
    pub division: Option<String>,
}

impl UserPatchInput {
    pub fn check(&self) -> Result<(i64, jiuzhu_app::records::UserPatch), AppError> {
        if [&self.role, &self.department, &self.division]
            .iter()
            .any(|f| nonempty(f).is_some())
        {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "ASSIGNED_BY_SECURITY_ADMIN",
                "角色、部门和所属辖区只能由安全管理员调整(三员分立)",
            ));
        }
        let mut c = Check::default();
        if self.row_version.is_none() {
            c.err("row_version", "REQUIRED", "缺少记录版本号(row_version)");
        }
        c.finish()?;
        Ok((
            self.row_version.unwrap_or_default(),
            jiuzhu_app::records::UserPatch {
                display_name: nonempty(&self.display_name).map(str::to_string),
                active: self.active,
                unlock: self.unlock.unwrap_or(false),
            },
        ))
    }
}

/// The security administrator's assignment: role, department and jurisdiction of an account
/// (empty fields keep their value).
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct AccessInput {
    #[serde(deserialize_with = "de_opt_i64")]
    pub row_version: Option<i64>,
    pub role: Option<String>,
    /// A department, or `none` to clear it.
    pub department: Option<String>,
    pub division: Option<String>,
}

impl AccessInput {
    pub fn check(&self) -> Result<(i64, jiuzhu_app::records::AccessPatch), AppError> {
        let mut c = Check::default();
        if self.row_version.is_none() {
            c.err("row_version", "REQUIRED", "缺少记录版本号(row_version)");
        }
        let role = c.code("role", "角色", nonempty(&self.role), Role::parse);
        let department = match nonempty(&self.department) {
            None => None,
            Some("none") | Some("无") => Some(None),
            Some(d) => c
                .code("department", "部门", Some(d), Department::parse)
                .map(Some),
        };
        let division = c.division("division", nonempty(&self.division));
        c.finish()?;
        Ok((
            self.row_version.unwrap_or_default(),
            jiuzhu_app::records::AccessPatch {
                role,
                department,
                division,
            },
        ))
    }
}

/// Approving an account as shown (its version).
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApproveInput {
    #[serde(deserialize_with = "de_opt_i64")]
    pub row_version: Option<i64>,
}

impl ApproveInput {
    pub fn check(&self) -> Result<i64, AppError> {
        self.row_version.ok_or_else(|| {
            AppError::invalid(vec![FieldError::new(
                "row_version",
                "REQUIRED",
                "缺少记录版本号(row_version)",
            )])
        })
    }
}

/// Login credentials.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
    /// Where to go after logging in (pages only).
    #[schema(ignore)]
    pub next: Option<String>,
}

/// Changing one's own password.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordInput {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: Option<String>,
}

/// A jurisdiction node to create or rename.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct DivisionInput {
    pub code: Option<String>,
    pub name: Option<String>,
}

impl DivisionInput {
    pub fn check(&self) -> Result<(DivisionCode, String), AppError> {
        let mut c = Check::default();
        let code = c
            .required("code", "区划代码", &self.code)
            .and_then(|v| c.division("code", Some(v)));
        let name = c.required("name", "名称", &self.name).map(str::to_string);
        match (code, name) {
            (Some(code), Some(name)) if c.errors.is_empty() => Ok((code, name)),
            _ => Err(c
                .finish()
                .err()
                .unwrap_or_else(|| AppError::invalid(vec![]))),
        }
    }
}

/// Longest text field of a multipart form (a note, a source name): the form's files have
/// limits of their own.
pub(crate) const MAX_FORM_TEXT_BYTES: usize = 64 << 10;

/// A multipart text field, refused once over [`MAX_FORM_TEXT_BYTES`] instead of being read
/// whole into memory.
pub(crate) async fn bounded_text_field(
    field: &mut axum::extract::multipart::Field<'_>,
) -> Result<String, crate::error::AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| crate::error::AppError::bad_request(format!("表单内容无法读取:{e}")))?
    {
        if bytes.len() + chunk.len() > MAX_FORM_TEXT_BYTES {
            let limit = jiuzhu_sheet::Limit::RecordBytes(MAX_FORM_TEXT_BYTES as u64);
            return Err(crate::error::AppError::limit(
                jiuzhu_sheet::LimitExceeded::new(limit),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| crate::error::AppError::bad_request("表单内容不是 UTF-8 文本"))
}
