"""dashboard at scale: covering indexes for the matrix's statuses

The matrix computes the status of thousands of learners in the database
(lms.dashboard.statuses): the learners' attempts and lesson reads are read from these
indexes alone, in (learner, module) order, without visiting the wide table rows.

Revision ID: 0012_dashboard_scale
Revises: 0011_cmi5
Create Date: 2026-11-22 08:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_dashboard_scale'
down_revision = '0011_cmi5'
branch_labels = None
depends_on = None

READ = ['user_id', 'module_id']
ATTEMPT = ['user_id', 'module_id']


def upgrade():
    with op.batch_alter_table('catalog_lesson_read', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_lesson_read_user_module')
        batch_op.create_index(
            'ix_catalog_lesson_read_user_module', READ + ['lesson_slug'], unique=False
        )
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempt_user_module')
        batch_op.create_index(
            'ix_quiz_attempt_user_module',
            ATTEMPT + ['state', 'submitted_at', 'passed', 'score_scaled'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempt_user_module')
        batch_op.create_index('ix_quiz_attempt_user_module', ATTEMPT, unique=False)
    with op.batch_alter_table('catalog_lesson_read', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_lesson_read_user_module')
        batch_op.create_index('ix_catalog_lesson_read_user_module', READ, unique=False)
