-- Staff who sign in to the console (and POST /api/v1/sessions): a login, its password's hash
-- (argon2id, never the password), and the role and branch or region its tokens carry.
CREATE TABLE staff (
    login         text        PRIMARY KEY CHECK (login = lower(login) AND length(login) BETWEEN 1 AND 80),
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL
                  CHECK (role IN ('advisor', 'technician', 'parts_coordinator', 'operations', 'admin')),
    branch_id     text,
    region_id     text,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (role NOT IN ('advisor', 'technician') OR branch_id IS NOT NULL),
    CHECK (role <> 'parts_coordinator' OR region_id IS NOT NULL)
);
