"""Infrastructure: zones, pods, clusters, hosts, templates, offerings, networks, NICs, events, alerts

Also seeds what CloudStack ships with: the default service and network offerings and a few OS types.

Revision ID: 0003
Revises: 0002
"""

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.base import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('type', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=999), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('pod_id', sa.Integer(), nullable=True),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('sent_count', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_sent', UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('uuid', name=op.f('uq_alert_uuid'))
    )
    op.create_index(op.f('ix_alert_created'), 'alert', ['created'], unique=False)
    op.create_index(op.f('ix_alert_type'), 'alert', ['type'], unique=False)
    op.create_table('event',
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('domain_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=255), nullable=True),
    sa.Column('account_name', sa.String(length=255), nullable=True),
    sa.Column('domain_uuid', sa.String(length=36), nullable=True),
    sa.Column('domain_name', sa.String(length=255), nullable=True),
    sa.Column('resource_type', sa.String(length=64), nullable=True),
    sa.Column('resource_uuid', sa.String(length=36), nullable=True),
    sa.Column('start_id', sa.Integer(), nullable=True),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('uuid', name=op.f('uq_event_uuid'))
    )
    op.create_index('ix_event_account_created', 'event', ['account_id', 'created'], unique=False)
    op.create_index(op.f('ix_event_created'), 'event', ['created'], unique=False)
    op.create_index(op.f('ix_event_type'), 'event', ['type'], unique=False)
    op.create_table('guest_os_category',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_os_category')),
    sa.UniqueConstraint('name', name=op.f('uq_guest_os_category_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_guest_os_category_uuid'))
    )
    op.create_table('network_offering',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_text', sa.String(length=4096), nullable=True),
    sa.Column('guest_type', sa.String(length=32), nullable=False),
    sa.Column('traffic_type', sa.String(length=32), nullable=False),
    sa.Column('specify_vlan', sa.Boolean(), nullable=False),
    sa.Column('specify_ip_ranges', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('is_persistent', sa.Boolean(), nullable=False),
    sa.Column('conserve_mode', sa.Boolean(), nullable=False),
    sa.Column('availability', sa.String(length=32), nullable=False),
    sa.Column('network_rate', sa.Integer(), nullable=True),
    sa.Column('services', sa.String(length=1024), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('for_vpc', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_offering')),
    sa.UniqueConstraint('name', name=op.f('uq_network_offering_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_network_offering_uuid'))
    )
    op.create_table('service_offering',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_text', sa.String(length=4096), nullable=True),
    sa.Column('cpu', sa.Integer(), nullable=True),
    sa.Column('speed', sa.Integer(), nullable=True),
    sa.Column('ram_size', sa.Integer(), nullable=True),
    sa.Column('offer_ha', sa.Boolean(), nullable=False),
    sa.Column('limit_cpu_use', sa.Boolean(), nullable=False),
    sa.Column('is_volatile', sa.Boolean(), nullable=False),
    sa.Column('dynamic_scaling_enabled', sa.Boolean(), nullable=False),
    sa.Column('host_tag', sa.String(length=255), nullable=True),
    sa.Column('storage_type', sa.String(length=32), nullable=False),
    sa.Column('provisioning_type', sa.String(length=32), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('default_use', sa.Boolean(), nullable=False),
    sa.Column('root_disk_size', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('sort_key', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_offering')),
    sa.UniqueConstraint('uuid', name=op.f('uq_service_offering_uuid'))
    )
    op.create_table('zone',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('network_type', sa.String(length=32), nullable=False),
    sa.Column('dns1', sa.String(length=255), nullable=True),
    sa.Column('dns2', sa.String(length=255), nullable=True),
    sa.Column('internal_dns1', sa.String(length=255), nullable=True),
    sa.Column('internal_dns2', sa.String(length=255), nullable=True),
    sa.Column('ip6_dns1', sa.String(length=255), nullable=True),
    sa.Column('ip6_dns2', sa.String(length=255), nullable=True),
    sa.Column('guest_cidr', sa.String(length=64), nullable=True),
    sa.Column('network_domain', sa.String(length=255), nullable=True),
    sa.Column('allocation_state', sa.String(length=32), nullable=False),
    sa.Column('security_groups_enabled', sa.Boolean(), nullable=False),
    sa.Column('local_storage_enabled', sa.Boolean(), nullable=False),
    sa.Column('zone_token', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zone')),
    sa.UniqueConstraint('uuid', name=op.f('uq_zone_uuid'))
    )
    op.create_table('guest_os',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('is_user_defined', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['guest_os_category.id'],
        name=op.f('fk_guest_os_category_id_guest_os_category')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_os')),
    sa.UniqueConstraint('uuid', name=op.f('uq_guest_os_uuid'))
    )
    op.create_index(op.f('ix_guest_os_category_id'), 'guest_os', ['category_id'], unique=False)
    op.create_table('pod',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=64), nullable=True),
    sa.Column('netmask', sa.String(length=64), nullable=True),
    sa.Column('start_ip', sa.String(length=64), nullable=True),
    sa.Column('end_ip', sa.String(length=64), nullable=True),
    sa.Column('allocation_state', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_pod_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pod')),
    sa.UniqueConstraint('uuid', name=op.f('uq_pod_uuid'))
    )
    op.create_index(op.f('ix_pod_zone_id'), 'pod', ['zone_id'], unique=False)
    op.create_table('service_offering_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service_offering_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['service_offering_id'], ['service_offering.id'],
        name=op.f('fk_service_offering_details_service_offering_id_service_offering'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_offering_details')),
    sa.UniqueConstraint('service_offering_id', 'name', name=op.f('uq_service_offering_details_service_offering_id'))
    )
    op.create_index(op.f('ix_service_offering_details_service_offering_id'),
        'service_offering_details', ['service_offering_id'], unique=False)
    op.create_table('cluster',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('pod_id', sa.Integer(), nullable=False),
    sa.Column('hypervisor_type', sa.String(length=32), nullable=False),
    sa.Column('cluster_type', sa.String(length=32), nullable=False),
    sa.Column('allocation_state', sa.String(length=32), nullable=False),
    sa.Column('managed_state', sa.String(length=32), nullable=False),
    sa.Column('arch', sa.String(length=16), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pod_id'], ['pod.id'], name=op.f('fk_cluster_pod_id_pod')),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_cluster_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cluster')),
    sa.UniqueConstraint('uuid', name=op.f('uq_cluster_uuid'))
    )
    op.create_index(op.f('ix_cluster_extension_id'), 'cluster', ['extension_id'], unique=False)
    op.create_index(op.f('ix_cluster_pod_id'), 'cluster', ['pod_id'], unique=False)
    op.create_index(op.f('ix_cluster_zone_id'), 'cluster', ['zone_id'], unique=False)
    op.create_table('network',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_text', sa.String(length=4096), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('network_offering_id', sa.Integer(), nullable=False),
    sa.Column('guest_type', sa.String(length=32), nullable=False),
    sa.Column('traffic_type', sa.String(length=32), nullable=False),
    sa.Column('broadcast_domain_type', sa.String(length=32), nullable=False),
    sa.Column('vlan', sa.Integer(), nullable=True),
    sa.Column('gateway', sa.String(length=64), nullable=True),
    sa.Column('netmask', sa.String(length=64), nullable=True),
    sa.Column('cidr', sa.String(length=64), nullable=True),
    sa.Column('start_ip', sa.String(length=64), nullable=True),
    sa.Column('end_ip', sa.String(length=64), nullable=True),
    sa.Column('dns1', sa.String(length=255), nullable=True),
    sa.Column('dns2', sa.String(length=255), nullable=True),
    sa.Column('network_domain', sa.String(length=255), nullable=True),
    sa.Column('mtu', sa.Integer(), nullable=False),
    sa.Column('network_rate', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('acl_type', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_network_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_network_domain_id_domains')),
    sa.ForeignKeyConstraint(['network_offering_id'], ['network_offering.id'],
        name=op.f('fk_network_network_offering_id_network_offering')),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_network_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network')),
    sa.UniqueConstraint('uuid', name=op.f('uq_network_uuid'))
    )
    op.create_index(op.f('ix_network_account_id'), 'network', ['account_id'], unique=False)
    op.create_index(op.f('ix_network_domain_id'), 'network', ['domain_id'], unique=False)
    op.create_index(op.f('ix_network_network_offering_id'), 'network', ['network_offering_id'], unique=False)
    op.create_index(op.f('ix_network_zone_id'), 'network', ['zone_id'], unique=False)
    op.create_index(
        'uq_network_zone_vlan_live', 'network', ['zone_id', 'vlan'], unique=True,
        sqlite_where=sa.text('removed IS NULL'), postgresql_where=sa.text('removed IS NULL'),
    )
    op.create_table('template',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_text', sa.String(length=4096), nullable=True),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('hypervisor_type', sa.String(length=32), nullable=False),
    sa.Column('template_type', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('checksum', sa.String(length=255), nullable=True),
    sa.Column('guest_os_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('is_featured', sa.Boolean(), nullable=False),
    sa.Column('is_extractable', sa.Boolean(), nullable=False),
    sa.Column('password_enabled', sa.Boolean(), nullable=False),
    sa.Column('dynamically_scalable', sa.Boolean(), nullable=False),
    sa.Column('requires_hvm', sa.Boolean(), nullable=False),
    sa.Column('bootable', sa.Boolean(), nullable=False),
    sa.Column('cross_zones', sa.Boolean(), nullable=False),
    sa.Column('arch', sa.String(length=16), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_template_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_template_domain_id_domains')),
    sa.ForeignKeyConstraint(['guest_os_id'], ['guest_os.id'], name=op.f('fk_template_guest_os_id_guest_os')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template')),
    sa.UniqueConstraint('uuid', name=op.f('uq_template_uuid'))
    )
    op.create_index(op.f('ix_template_account_id'), 'template', ['account_id'], unique=False)
    op.create_index(op.f('ix_template_domain_id'), 'template', ['domain_id'], unique=False)
    op.create_index(op.f('ix_template_extension_id'), 'template', ['extension_id'], unique=False)
    op.create_table('cluster_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'],
        name=op.f('fk_cluster_details_cluster_id_cluster'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cluster_details')),
    sa.UniqueConstraint('cluster_id', 'name', name=op.f('uq_cluster_details_cluster_id'))
    )
    op.create_index(op.f('ix_cluster_details_cluster_id'), 'cluster_details', ['cluster_id'], unique=False)
    op.create_table('host',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('pod_id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('hypervisor_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('resource_state', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('guid', sa.String(length=255), nullable=False),
    sa.Column('private_ip_address', sa.String(length=64), nullable=True),
    sa.Column('cpus', sa.Integer(), nullable=False),
    sa.Column('speed', sa.Integer(), nullable=False),
    sa.Column('total_memory', sa.BigInteger(), nullable=False),
    sa.Column('arch', sa.String(length=16), nullable=False),
    sa.Column('host_tags', sa.String(length=1024), nullable=True),
    sa.Column('version', sa.String(length=64), nullable=True),
    sa.Column('last_pinged', UtcDateTime(timezone=True), nullable=True),
    sa.Column('status_changed', UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], name=op.f('fk_host_cluster_id_cluster')),
    sa.ForeignKeyConstraint(['pod_id'], ['pod.id'], name=op.f('fk_host_pod_id_pod')),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_host_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host')),
    sa.UniqueConstraint('uuid', name=op.f('uq_host_uuid'))
    )
    op.create_index(op.f('ix_host_cluster_id'), 'host', ['cluster_id'], unique=False)
    op.create_index(op.f('ix_host_pod_id'), 'host', ['pod_id'], unique=False)
    op.create_index(op.f('ix_host_zone_id'), 'host', ['zone_id'], unique=False)
    op.create_table('nic',
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('mac_address', sa.String(length=17), nullable=False),
    sa.Column('ip4_address', sa.String(length=64), nullable=True),
    sa.Column('ip6_address', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('broadcast_uri', sa.String(length=255), nullable=False),
    sa.Column('isolation_uri', sa.String(length=255), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['network.id'], name=op.f('fk_nic_network_id_network')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nic')),
    sa.UniqueConstraint('mac_address', name=op.f('uq_nic_mac_address')),
    sa.UniqueConstraint('network_id', 'ip4_address', name=op.f('uq_nic_network_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_nic_uuid'))
    )
    op.create_index('ix_nic_instance_device', 'nic', ['instance_id', 'device_id'], unique=False)
    op.create_index(op.f('ix_nic_network_id'), 'nic', ['network_id'], unique=False)
    op.create_table('template_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'],
        name=op.f('fk_template_details_template_id_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_details')),
    sa.UniqueConstraint('template_id', 'name', name=op.f('uq_template_details_template_id'))
    )
    op.create_index(op.f('ix_template_details_template_id'), 'template_details', ['template_id'], unique=False)
    op.create_table('template_zone',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('ready', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'],
        name=op.f('fk_template_zone_template_id_template'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_template_zone_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_zone')),
    sa.UniqueConstraint('template_id', 'zone_id', name=op.f('uq_template_zone_template_id'))
    )
    op.create_index(op.f('ix_template_zone_template_id'), 'template_zone', ['template_id'], unique=False)
    op.create_index(op.f('ix_template_zone_zone_id'), 'template_zone', ['zone_id'], unique=False)
    op.create_table('host_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_host_details_host_id_host'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_details')),
    sa.UniqueConstraint('host_id', 'name', name=op.f('uq_host_details_host_id'))
    )
    op.create_index(op.f('ix_host_details_host_id'), 'host_details', ['host_id'], unique=False)
    seed()


def downgrade() -> None:
    op.drop_index(op.f('ix_host_details_host_id'), table_name='host_details')
    op.drop_table('host_details')
    op.drop_index(op.f('ix_template_zone_zone_id'), table_name='template_zone')
    op.drop_index(op.f('ix_template_zone_template_id'), table_name='template_zone')
    op.drop_table('template_zone')
    op.drop_index(op.f('ix_template_details_template_id'), table_name='template_details')
    op.drop_table('template_details')
    op.drop_index(op.f('ix_nic_network_id'), table_name='nic')
    op.drop_index('ix_nic_instance_device', table_name='nic')
    op.drop_table('nic')
    op.drop_index(op.f('ix_host_zone_id'), table_name='host')
    op.drop_index(op.f('ix_host_pod_id'), table_name='host')
    op.drop_index(op.f('ix_host_cluster_id'), table_name='host')
    op.drop_table('host')
    op.drop_index(op.f('ix_cluster_details_cluster_id'), table_name='cluster_details')
    op.drop_table('cluster_details')
    op.drop_index(op.f('ix_template_extension_id'), table_name='template')
    op.drop_index(op.f('ix_template_domain_id'), table_name='template')
    op.drop_index(op.f('ix_template_account_id'), table_name='template')
    op.drop_table('template')
    op.drop_index(op.f('ix_network_zone_id'), table_name='network')
    op.drop_index('uq_network_zone_vlan_live', table_name='network')
    op.drop_index(op.f('ix_network_network_offering_id'), table_name='network')
    op.drop_index(op.f('ix_network_domain_id'), table_name='network')
    op.drop_index(op.f('ix_network_account_id'), table_name='network')
    op.drop_table('network')
    op.drop_index(op.f('ix_cluster_zone_id'), table_name='cluster')
    op.drop_index(op.f('ix_cluster_pod_id'), table_name='cluster')
    op.drop_index(op.f('ix_cluster_extension_id'), table_name='cluster')
    op.drop_table('cluster')
    op.drop_index(op.f('ix_service_offering_details_service_offering_id'), table_name='service_offering_details')
    op.drop_table('service_offering_details')
    op.drop_index(op.f('ix_pod_zone_id'), table_name='pod')
    op.drop_table('pod')
    op.drop_index(op.f('ix_guest_os_category_id'), table_name='guest_os')
    op.drop_table('guest_os')
    op.drop_table('zone')
    op.drop_table('service_offering')
    op.drop_table('network_offering')
    op.drop_table('guest_os_category')
    op.drop_index(op.f('ix_event_type'), table_name='event')
    op.drop_index(op.f('ix_event_created'), table_name='event')
    op.drop_index('ix_event_account_created', table_name='event')
    op.drop_table('event')
    op.drop_index(op.f('ix_alert_type'), table_name='alert')
    op.drop_index(op.f('ix_alert_created'), table_name='alert')
    op.drop_table('alert')


# --- seed data (frozen here: later changes to the models must not change what this revision inserts) ---

_SERVICE_OFFERINGS = [
    # name, display text, vCPUs, MHz, MiB, sort key
    ("Small Instance", "Small Instance", 1, 500, 512, 1),
    ("Medium Instance", "Medium Instance", 1, 1000, 1024, 2),
]

_NETWORK_OFFERINGS = [
    # name, display text, guest type, specify vlan, specify ip ranges, default, services
    ("DefaultL2NetworkOffering", "Offering for L2 networks", "L2", False, False, True, ""),
    ("DefaultL2NetworkOfferingVlan", "Offering for L2 networks VLAN", "L2", True, False, True, ""),
    ("DefaultIsolatedNetworkOfferingWithSourceNatService",
     "Offering for Isolated networks with Source Nat service enabled", "Isolated", False, False, True,
     "Dhcp,Dns,Firewall,Gateway,Lb,PortForwarding,SourceNat,StaticNat,UserData,Vpn"),
    ("DefaultIsolatedNetworkOffering", "Offering for Isolated networks with no Source Nat service",
     "Isolated", False, True, True, "Dhcp,Dns,UserData"),
    ("DefaultSharedNetworkOffering", "Offering for Shared networks", "Shared", True, True, True,
     "Dhcp,Dns,UserData"),
]

_OS_TYPES = {
    # category → OS type display names
    "Debian": ["Debian GNU/Linux 11 (64-bit)", "Debian GNU/Linux 12 (64-bit)"],
    "Ubuntu": ["Ubuntu 22.04 LTS", "Ubuntu 24.04 LTS"],
    "CentOS": ["CentOS 7", "Rocky Linux 9", "AlmaLinux 9"],
    "Windows": ["Windows Server 2022 (64-bit)"],
    "Other": ["Other Linux (64-bit)", "Other (64-bit)"],
}


def seed() -> None:
    """Insert the default offerings and OS types, as a fresh CloudStack has them."""
    now = dt.datetime.now(dt.UTC)
    offering = sa.table(
        "service_offering",
        *(sa.column(name) for name in (
            "uuid", "name", "display_text", "cpu", "speed", "ram_size", "offer_ha", "limit_cpu_use",
            "is_volatile", "dynamic_scaling_enabled", "storage_type", "provisioning_type", "is_system",
            "default_use", "state", "sort_key", "created")),
    )
    op.bulk_insert(offering, [
        {"uuid": str(uuid.uuid4()), "name": name, "display_text": text, "cpu": cpu, "speed": speed,
         "ram_size": ram, "offer_ha": False, "limit_cpu_use": False, "is_volatile": False,
         "dynamic_scaling_enabled": True, "storage_type": "shared", "provisioning_type": "thin",
         "is_system": False, "default_use": False, "state": "Active", "sort_key": key, "created": now}
        for name, text, cpu, speed, ram, key in _SERVICE_OFFERINGS
    ])
    network_offering = sa.table(
        "network_offering",
        *(sa.column(name) for name in (
            "uuid", "name", "display_text", "guest_type", "traffic_type", "specify_vlan", "specify_ip_ranges",
            "is_default", "is_persistent", "conserve_mode", "availability", "services", "state", "for_vpc",
            "created")),
    )
    op.bulk_insert(network_offering, [
        {"uuid": str(uuid.uuid4()), "name": name, "display_text": text, "guest_type": guest_type,
         "traffic_type": "Guest", "specify_vlan": vlan, "specify_ip_ranges": ranges, "is_default": default,
         "is_persistent": False, "conserve_mode": True, "availability": "Optional", "services": services,
         "state": "Enabled", "for_vpc": False, "created": now}
        for name, text, guest_type, vlan, ranges, default, services in _NETWORK_OFFERINGS
    ])
    category = sa.table("guest_os_category", sa.column("id"), sa.column("uuid"), sa.column("name"))
    guest_os = sa.table(
        "guest_os", *(sa.column(name) for name in (
            "uuid", "category_id", "display_name", "is_user_defined", "created")),
    )
    bind = op.get_bind()
    for name, os_names in _OS_TYPES.items():
        op.bulk_insert(category, [{"uuid": str(uuid.uuid4()), "name": name}])
        # Read the id back rather than choosing it: PostgreSQL's identity sequence must stay in step.
        category_id = bind.execute(sa.select(category.c.id).where(category.c.name == name)).scalar_one()
        op.bulk_insert(guest_os, [
            {"uuid": str(uuid.uuid4()), "category_id": category_id, "display_name": os_name,
             "is_user_defined": False, "created": now}
            for os_name in os_names
        ])
