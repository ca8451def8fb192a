-- The backfill of migration 0018 as data: the referral cases registered before it get the
-- department their workflow file named then. The store no longer reads the workflow files (the
-- application sets a case's department at registration), so the mapping is written here once.
UPDATE cases SET department = 'medical_insurance'
    WHERE workflow = 'referral_medical' AND department IS NULL;
UPDATE cases SET department = 'education'
    WHERE workflow = 'referral_education' AND department IS NULL;
UPDATE cases SET department = 'housing'
    WHERE workflow = 'referral_housing' AND department IS NULL;
UPDATE cases SET department = 'human_resources'
    WHERE workflow = 'referral_employment' AND department IS NULL;
DELETE FROM pending_backfills WHERE name = 'case_department';
