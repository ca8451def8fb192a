//! The demo county: size, validity, determinism and accounts.

use std::collections::{HashMap, HashSet};

use jiuzhu_domain::{DivisionCode, IdNumber, Level, Relation, Role, Sex};
use jiuzhu_import::demo::{self, generate};

#[test]
fn the_demo_county_is_deterministic() {
    let a = generate(20261123);
    let b = generate(20261123);
    assert_eq!(a, b);
    let c = generate(7);
    assert_ne!(
        a.batch.members, c.batch.members,
        "another seed gives other people"
    );
    assert_eq!(
        a.divisions, c.divisions,
        "the tree does not depend on the seed"
    );
}

#[test]
fn the_tree_is_the_county_with_townships_villages_and_grids() {
    let d = generate(1);
    let codes: HashSet<&DivisionCode> = d.divisions.iter().map(|(c, _)| c).collect();
    assert_eq!(codes.len(), d.divisions.len(), "codes are unique");
    let county = DivisionCode::parse("371002").unwrap();
    let count = |level: Level| {
        d.divisions
            .iter()
            .filter(|(c, _)| c.level() == level)
            .count()
    };
    assert_eq!(count(Level::Province), 1);
    assert_eq!(count(Level::City), 1);
    assert_eq!(count(Level::County), 1);
    assert_eq!(count(Level::Township), 11);
    let villages = count(Level::Village);
    assert!(
        (11 * 8..=11 * 15).contains(&villages),
        "{villages} villages"
    );
    let grids = count(Level::Grid);
    assert!(
        (villages * 2..=villages * 3).contains(&grids),
        "{grids} grids"
    );
    for (code, name) in &d.divisions {
        assert!(!name.is_empty());
        if code.level() >= Level::County {
            assert!(county.contains(code), "{code:?}");
        }
        // Every node's parent precedes it.
        if code.level() >= Level::Township {
            let parent = &code.ancestors()[0];
            assert!(
                d.divisions
                    .iter()
                    .take_while(|(c, _)| c != code)
                    .any(|(c, _)| c == parent),
                "{code:?} before its parent"
            );
        }
    }
    let township = |c: &str| {
        d.divisions
            .iter()
            .find(|(x, _)| x.as_str() == c)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(township("371002001"), "环翠楼街道");
    assert_eq!(township("371002008"), "张村镇");
}

#[test]
fn about_five_thousand_valid_households_each_with_one_head() {
    let d = generate(20261123);
    let batch = &d.batch;
    assert_eq!(batch.households.len(), demo::HOUSEHOLDS);
    assert!(
        batch.members.len() > 10_000,
        "{} members",
        batch.members.len()
    );
    assert_eq!(batch.source, "demo");
    assert!(!batch.create_missing_divisions);

    let county = DivisionCode::parse("371002").unwrap();
    let refs: HashSet<&str> = batch
        .households
        .iter()
        .map(|h| h.source_ref.as_str())
        .collect();
    assert_eq!(
        refs.len(),
        batch.households.len(),
        "household numbers are unique"
    );
    for h in &batch.households {
        assert!(county.contains(&h.division));
        assert!(matches!(h.division.level(), Level::Village | Level::Grid));
        assert!(
            d.divisions.iter().any(|(c, _)| *c == h.division),
            "{:?} in the tree",
            h.division
        );
        assert!(!h.address.is_empty());
    }

    let mut ids = HashSet::new();
    let mut heads: HashMap<usize, usize> = HashMap::new();
    let mut by_household: HashMap<usize, Vec<usize>> = HashMap::new();
    let today = batch.valid_from;
    for (i, m) in batch.members.iter().enumerate() {
        assert!(
            ids.insert(m.id_number.clone()),
            "identity numbers are unique"
        );
        assert_eq!(
            IdNumber::parse(m.id_number.as_str()).as_ref(),
            Ok(&m.id_number)
        );
        let f = m.facts.as_deref().expect("demo members carry facts");
        assert_eq!(f.name, m.name);
        assert_eq!(f.sex, m.id_number.sex());
        assert_eq!(f.birth_date, m.id_number.birth_date());
        assert!(f.birth_date <= today);
        let household = &batch.households[m.household];
        assert_eq!(f.residence_division, household.division);
        assert!(county.contains(&f.residence_division));
        assert!(f
            .hukou_division
            .as_ref()
            .is_some_and(|h| county.contains(h)));
        if let Some(dis) = f.disability {
            assert!((1..=4).contains(&dis.grade));
        }
        assert_eq!(f.serious_illness, f.illness_note.is_some());
        let name_len = m.name.chars().count();
        assert!((2..=3).contains(&name_len), "{}", m.name);
        if m.relation == Relation::Head {
            *heads.entry(m.household).or_default() += 1;
            assert!(f.phone.is_none() || f.phone.as_ref().is_some_and(|p| p.len() == 11));
        }
        by_household.entry(m.household).or_default().push(i);
    }
    for h in 0..batch.households.len() {
        assert_eq!(
            heads.get(&h),
            Some(&1),
            "household {h} has exactly one head"
        );
    }

    // Ages are consistent with relations; spouses are of the other sex; children and the head's
    // father share the family's surname where the father is in the household.
    for members in by_household.values() {
        let ms: Vec<_> = members.iter().map(|&i| &batch.members[i]).collect();
        let head = ms.iter().find(|m| m.relation == Relation::Head).unwrap();
        let head_age = head.id_number.age_on(today);
        let surname = |n: &str| n.chars().next().unwrap();
        for m in &ms {
            let age = m.id_number.age_on(today);
            match m.relation {
                Relation::Parent => assert!(age >= head_age + 18),
                Relation::Child => assert!(age + 18 <= head_age),
                Relation::Grandchild => assert!(age + 36 <= head_age),
                Relation::Spouse => {
                    assert_ne!(m.id_number.sex(), head.id_number.sex());
                    assert_ne!(surname(&m.name), surname(&head.name));
                    assert!(age >= 18);
                }
                _ => {}
            }
            if m.relation == Relation::Parent && m.id_number.sex() == Sex::Male {
                assert_eq!(surname(&m.name), surname(&head.name));
            }
        }
        let father = ms.iter().find(|m| {
            matches!(m.relation, Relation::Head | Relation::Spouse)
                && m.id_number.sex() == Sex::Male
        });
        let both_parents = ms
            .iter()
            .filter(|m| matches!(m.relation, Relation::Head | Relation::Spouse))
            .count()
            == 2;
        if let (Some(father), true) = (father, both_parents) {
            for m in ms.iter().filter(|m| m.relation == Relation::Child) {
                assert_eq!(surname(&m.name), surname(&father.name));
            }
        }
    }

    // The facts are varied enough to exercise the policies.
    let facts: Vec<_> = batch
        .members
        .iter()
        .filter_map(|m| m.facts.as_deref())
        .collect();
    let share = |p: &dyn Fn(&&jiuzhu_domain::PersonFacts) -> bool| {
        facts.iter().filter(|f| p(f)).count() as f64 / facts.len() as f64
    };
    assert!(share(&|f| f.disability.is_some()) > 0.04);
    assert!(share(&|f| f.disability.is_some_and(|d| d.grade <= 2)) > 0.01);
    assert!(share(&|f| f.serious_illness) > 0.02);
    assert!(share(&|f| f.education.in_school()) > 0.05);
    assert!(share(&|f| f.self_care.is_some_and(|s| s.unable_count() >= 4)) > 0.005);
    assert!(share(&|f| f.self_care.is_some()) > 0.1);
    assert!(share(&|f| f.bank_account.is_some()) > 0.2);
    assert!(share(&|f| f.hukou_division.as_ref() != Some(&f.residence_division)) > 0.05);
}

#[test]
fn there_is_a_user_of_every_role_with_a_strong_known_password() {
    let d = generate(20261123);
    for role in Role::ALL {
        assert!(d.users.iter().any(|u| u.role == *role), "{role:?}");
    }
    let usernames: HashSet<&str> = d.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(usernames.len(), d.users.len());
    for u in &d.users {
        assert!(
            d.divisions.iter().any(|(c, _)| *c == u.division),
            "{} bound to a node",
            u.username
        );
        let p = &u.password;
        assert!(p.chars().count() >= 10);
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_digit()));
        assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert_eq!(u.department.is_some(), u.role.is_department());
    }
    let clerks: Vec<&str> = d
        .users
        .iter()
        .filter(|u| u.role == Role::WindowClerk)
        .map(|u| u.division.as_str())
        .collect();
    assert_eq!(clerks, ["371002001", "371002002"]);
    let assistant = d
        .users
        .iter()
        .find(|u| u.role == Role::VillageAssistant)
        .unwrap();
    assert_eq!(assistant.division.level(), Level::Village);
    assert!(assistant.division.as_str().starts_with("371002001"));
    // The assistant's village and both clerks' townships have households to work on.
    for prefix in ["371002001001", "371002001", "371002002"] {
        assert!(d
            .batch
            .households
            .iter()
            .any(|h| h.division.as_str().starts_with(prefix)));
    }
}

#[test]
fn generation_is_fast() {
    let started = std::time::Instant::now();
    let d = generate(3);
    let took = started.elapsed();
    assert_eq!(d.batch.households.len(), demo::HOUSEHOLDS);
    // Generous for debug builds on a busy machine; release takes a few tens of milliseconds.
    assert!(took.as_secs_f64() < 5.0, "{took:?}");
}
