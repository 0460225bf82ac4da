#!/bin/bash
# devstack plugin for cinder-ebs-driver: installs the driver, optionally
# runs the embedded EBS emulator, configures an EBS backend in cinder.conf,
# enables the cinder-api guard filter and creates a multi-attach type.
# With CINDER_EBS_CLUSTER set, the volume service joins that active-active
# cluster and Cinder's locks go to a distributed backend (etcd).

function install_cinder_ebs {
    setup_develop "$CINDER_EBS_DIR"
}

function start_cinder_ebs_emulator {
    mkdir -p "$CINDER_EBS_EMULATOR_STATE_DIR"
    run_process ebs-emulator "$(which ebs-emulator) \
        --bind 127.0.0.1 --port $CINDER_EBS_EMULATOR_PORT \
        --state-dir $CINDER_EBS_EMULATOR_STATE_DIR \
        --access-key $CINDER_EBS_ACCESS_KEY_ID:$CINDER_EBS_ACCESS_KEY_SECRET \
        --region $CINDER_EBS_REGION --zone $CINDER_EBS_ZONE \
        --sts-token-lifetime $CINDER_EBS_STS_TOKEN_LIFETIME"
}

# ebs_credential_type and the options of that type.
function configure_cinder_ebs_credentials {
    local section=$1
    local type=$CINDER_EBS_CREDENTIAL_TYPE

    iniset "$CINDER_CONF" "$section" ebs_credential_type "$type"
    case $type in
        access_key|sts|ram_role_arn)
            iniset "$CINDER_CONF" "$section" ebs_access_key_id \
                "$CINDER_EBS_ACCESS_KEY_ID"
            iniset "$CINDER_CONF" "$section" ebs_access_key_secret \
                "$CINDER_EBS_ACCESS_KEY_SECRET"
            ;;
    esac
    case $type in
        sts)
            iniset "$CINDER_CONF" "$section" ebs_security_token \
                "$CINDER_EBS_SECURITY_TOKEN"
            ;;
        ram_role_arn)
            iniset "$CINDER_CONF" "$section" ebs_role_arn \
                "$CINDER_EBS_ROLE_ARN"
            iniset "$CINDER_CONF" "$section" ebs_role_session_name \
                "$CINDER_EBS_ROLE_SESSION_NAME"
            if [[ -n "$CINDER_EBS_STS_ENDPOINT" ]]; then
                iniset "$CINDER_CONF" "$section" ebs_sts_endpoint \
                    "$CINDER_EBS_STS_ENDPOINT"
            fi
            ;;
        ecs_ram_role)
            if [[ -n "$CINDER_EBS_ECS_ROLE_NAME" ]]; then
                iniset "$CINDER_CONF" "$section" ebs_ecs_role_name \
                    "$CINDER_EBS_ECS_ROLE_NAME"
            fi
            iniset "$CINDER_CONF" "$section" ebs_metadata_token_required \
                "$CINDER_EBS_METADATA_TOKEN_REQUIRED"
            ;;
        credentials_uri)
            iniset "$CINDER_CONF" "$section" ebs_credentials_uri \
                "$CINDER_EBS_CREDENTIALS_URI"
            ;;
        access_key)
            ;;
        *)
            die $LINENO "CINDER_EBS_CREDENTIAL_TYPE: unknown type $type"
            ;;
    esac
}

function configure_cinder_ebs_backend {
    local section=$CINDER_EBS_BACKEND_NAME
    local backends

    iniset "$CINDER_CONF" "$section" volume_driver \
        cinder_ebs_driver.driver.EBSVolumeDriver
    iniset "$CINDER_CONF" "$section" volume_backend_name "$section"
    iniset "$CINDER_CONF" "$section" ebs_endpoint "$CINDER_EBS_ENDPOINT"
    iniset "$CINDER_CONF" "$section" ebs_protocol "$CINDER_EBS_PROTOCOL"
    iniset "$CINDER_CONF" "$section" ebs_region_id "$CINDER_EBS_REGION"
    iniset "$CINDER_CONF" "$section" ebs_zone_id "$CINDER_EBS_ZONE"
    configure_cinder_ebs_credentials "$section"
    iniset "$CINDER_CONF" "$section" ebs_host_instance_map \
        "$CINDER_EBS_HOST_INSTANCE_MAP"
    iniset "$CINDER_CONF" "$section" ebs_pool_capacity_gb \
        "$CINDER_EBS_POOL_CAPACITY_GB"
    if [[ "$CINDER_EBS_USE_EMULATOR" == "True" ]]; then
        # The emulator exposes each instance's disks under its state dir.
        iniset "$CINDER_CONF" "$section" ebs_device_path_template \
            "$CINDER_EBS_EMULATOR_STATE_DIR/instances/{instance_id}/dev/disk/by-id/nvme-Alibaba_Cloud_Elastic_Block_Storage_{serial}"
    fi

    backends=$(iniget "$CINDER_CONF" DEFAULT enabled_backends)
    if [[ ",$backends," != *",$section,"* ]]; then
        iniset "$CINDER_CONF" DEFAULT enabled_backends \
            "${backends:+$backends,}$section"
    fi
}

function configure_cinder_ebs_cluster {
    # Active-active: the volume services of the cluster share the
    # driver's per-volume locks only through a distributed tooz backend;
    # file locks (Cinder's default) serialise one machine only.
    local url
    iniset "$CINDER_CONF" DEFAULT cluster "$CINDER_EBS_CLUSTER"
    url=$(iniget "$CINDER_CONF" coordination backend_url)
    if [[ -n "$CINDER_EBS_COORDINATION_URL" ]]; then
        url=$CINDER_EBS_COORDINATION_URL
    elif [[ -z "$url" || "$url" == file://* ]]; then
        if ! is_service_enabled etcd3; then
            die $LINENO "CINDER_EBS_CLUSTER needs a distributed lock" \
                "service: enable etcd3 or set CINDER_EBS_COORDINATION_URL"
        fi
        url="etcd3+http://${SERVICE_HOST}:${ETCD_PORT:-2379}"
    fi
    iniset "$CINDER_CONF" coordination backend_url "$url"
    pip_install etcd3gw
}

function configure_cinder_ebs_api_guard {
    # Same pipelines as Cinder's own api-paste.ini, with the guard filter
    # added after the context middleware of each authenticated pipeline.
    cp "$CINDER_EBS_DIR/etc/cinder/api-paste.ini" "$CINDER_API_PASTE_INI"
}

function create_cinder_ebs_volume_type {
    local type=$CINDER_EBS_MULTIATTACH_TYPE
    if ! openstack volume type show "$type" >/dev/null 2>&1; then
        openstack --os-volume-api-version 3.50 volume type create \
            --property volume_backend_name="$CINDER_EBS_BACKEND_NAME" \
            --property multiattach="<is> True" "$type"
    fi
}

if is_service_enabled cinder; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing cinder-ebs-driver"
        install_cinder_ebs
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring the EBS backend"
        configure_cinder_ebs_backend
        if [[ -n "$CINDER_EBS_CLUSTER" ]]; then
            configure_cinder_ebs_cluster
        fi
        if [[ "$CINDER_EBS_ENABLE_API_GUARD" == "True" ]]; then
            configure_cinder_ebs_api_guard
        fi
        if [[ "$CINDER_EBS_USE_EMULATOR" == "True" ]]; then
            start_cinder_ebs_emulator
        fi
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Creating the multi-attach volume type"
        create_cinder_ebs_volume_type
    fi

    if [[ "$1" == "unstack" ]]; then
        if [[ "$CINDER_EBS_USE_EMULATOR" == "True" ]]; then
            stop_process ebs-emulator
        fi
    fi

    if [[ "$1" == "clean" ]]; then
        if [[ "$CINDER_EBS_USE_EMULATOR" == "True" ]]; then
            rm -rf "$CINDER_EBS_EMULATOR_STATE_DIR"
        fi
    fi
fi
