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

  @DR-ENC-01
  Scenario: Every data store uses a rotating customer-managed key of its own region
    When requirement DR-ENC-01 is evaluated
    Then the requirement is met with no finding
    And at least 10 resources were evaluated

  @DR-ENC-01
  Scenario Outline: Detects: a store that is not protected as required
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

  @DR-ENC-02
  Scenario: Every key keeps a recovery window and no key policy opens the key to everyone
    When requirement DR-ENC-02 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-ENC-02
  Scenario Outline: Detects: a key that can vanish quickly or that anyone may use
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                      |
      | key deletion window of 3 days               |
      | key policy grants kms:* to everyone         |
      | key policy written as JSON open to everyone |

  @DR-ENC-03
  Scenario: No password, key or token is written into the configuration
    When requirement DR-ENC-03 is evaluated
    Then the requirement is met with no finding
    And at least 60 resources were evaluated

  @DR-ENC-03
  Scenario Outline: Detects: a secret in the configuration, or a database password not managed by AWS
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-03 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                        |
      | master password added to the primary cluster  |
      | managed master password turned off            |
      | database password in a function environment   |
      | access key id in a function environment       |

  @DR-ENC-04
  Scenario: Health checks use HTTPS and every database forces TLS
    When requirement DR-ENC-04 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-ENC-04
  Scenario Outline: Detects: a probe or a database connection that may travel unencrypted
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-04 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                  |
      | health check over plain HTTP            |
      | database SSL not forced                 |
      | database on the default parameter group |
