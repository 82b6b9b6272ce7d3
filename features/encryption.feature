Feature: Encryption of data at rest and in transit
  The disaster-recovery design keeps copies of the same data in two regions.
  Each copy must be protected by encryption keys the organisation controls,
  created in the copy's own region, so that losing or revoking one region's
  key never exposes or locks the other region's data, and keys are rotated.
  A key deleted in haste would make a region's copy unreadable exactly when
  it is needed, so keys keep a recovery window and no policy lets anyone use
  them. The configuration itself is copied into both regions' pipelines, so
  it holds no secret; database passwords are managed by AWS with the
  region's key. Health checks that decide failover, and connections to the
  databases, are encrypted in transit.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-ENC-01 @nist:SC-28 @nist:SC-12 @soc2:CC6.1 @iso27001:A.8.24
  Scenario: Every data store uses a rotating customer-managed key of its own region
    When requirement DR-ENC-01 is evaluated
    Then the requirement is met with no finding
    And at least 10 resources were evaluated

  @DR-ENC-01 @nist:SC-28 @nist:SC-12 @soc2:CC6.1 @iso27001:A.8.24
  Scenario Outline: A store that is not protected as required is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                       |
      | aurora storage encryption removed            |
      | replica encrypted with another region's key  |
      | topic on an AWS-managed key                  |
      | key rotation off                             |
      | log group without a key                      |

  @DR-ENC-02 @nist:SC-12 @nist:AC-6 @soc2:CC6.1 @iso27001:A.8.24
  Scenario: Every key keeps a recovery window and no key policy opens the key to everyone
    When requirement DR-ENC-02 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-ENC-02 @nist:SC-12 @nist:AC-6 @soc2:CC6.1 @iso27001:A.8.24
  Scenario Outline: A key that can vanish quickly or that anyone may use is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                      |
      | key deletion window of 3 days               |
      | key policy grants kms:* to everyone         |
      | key policy written as JSON open to everyone |

  @DR-ENC-03 @nist:IA-5 @nist:IA-5(7) @nist:SC-28 @soc2:CC6.1 @iso27001:A.5.17 @iso27001:A.8.24
  Scenario: No password, key or token is written into the configuration
    When requirement DR-ENC-03 is evaluated
    Then the requirement is met with no finding
    And at least 60 resources were evaluated

  @DR-ENC-03 @nist:IA-5 @nist:IA-5(7) @nist:SC-28 @soc2:CC6.1 @iso27001:A.5.17 @iso27001:A.8.24
  Scenario Outline: A secret in the configuration, or a database password not managed by AWS, is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-03 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                        |
      | master password added to the primary cluster  |
      | managed master password turned off            |
      | database password in a function environment   |
      | access key id in a function environment       |

  @DR-ENC-04 @nist:SC-8 @nist:SC-8(1) @soc2:CC6.7 @iso27001:A.8.24
  Scenario: Health checks use HTTPS and every database forces TLS
    When requirement DR-ENC-04 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-ENC-04 @nist:SC-8 @nist:SC-8(1) @soc2:CC6.7 @iso27001:A.8.24
  Scenario Outline: A probe or a database connection that may travel unencrypted is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-04 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                  |
      | health check over plain HTTP            |
      | database SSL not forced                 |
      | database on the default parameter group |
